/**
 * The whole Voltkit stack in one process, and a scripted night that proves it.
 * @module
 */
export { startStack, type Stack, type StackConfig } from './stack.ts';
export { loadDemoConfig, parseDemoArgs, DemoConfigError, type DemoConfig, type DemoArgs } from './config.ts';
export { DEMO_FLEET, STATION_KW, type DemoCar } from './demo-fleet.ts';
