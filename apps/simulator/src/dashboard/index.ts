export { registerDashboard, DASHBOARD_CSP } from './routes.ts';
export { DemoReceiver, DEMO_RECEIVER_PREFIX, type DemoReceipt } from './demo-receiver.ts';
export { RequestLog, scopeOf, type RequestLogEntry } from './request-log.ts';
export { Ring } from './ring.ts';
export { DASHBOARD_PREFIX } from './session.ts';
export type { DashboardDeps } from './pages.ts';
