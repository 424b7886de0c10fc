/**
 * The operator console's grid tree: substations, feeders, transformers and connections with their limits
 * and what is behind them (cars, plugged, charging, planned peak), children fetched when a node is
 * opened, so a utility's tens of thousands of connections are never loaded at once. A node's load chart
 * is the shared chart, drawn from the node's summed plan against its own limit.
 */
import type { ChartSlot } from '../chart/load-price-chart.ts';
import type { DashboardData } from '../service/http/dashboard-data.ts';
import { apiGet, apiGetAll } from './api-client.ts';
import { byId, h } from './dom.ts';
import { formatKw } from './format.ts';
import { drawLoadChart } from './load-chart-view.ts';

interface GridNode {
  id: string;
  parentId: string | null;
  kind: 'substation' | 'feeder' | 'transformer' | 'connection';
  name: string;
  limitKw: number;
  baseLoadKwhPerYear: number;
}
interface NodeAggregate {
  nodeId: string;
  cars: number;
  plugged: number;
  charging: number;
  plannedKw: { start: string; kw: number }[];
}

/** Children shown per opened node before "more" would be needed; the rest is said, not hidden. */
const CHILDREN_SHOWN = 200;

const tree = {
  roots: [] as GridNode[],
  children: new Map<string, { items: GridNode[]; complete: boolean }>(),
  aggregates: new Map<string, NodeAggregate>(),
  open: new Set<string>(),
  selected: null as string | null,
};

const peakKw = (aggregate: NodeAggregate | undefined): number | null =>
  aggregate === undefined ? null : Math.max(0, ...aggregate.plannedKw.map((slot) => slot.kw));

/** The node's chart slots: its planned charging per plan slot, its limit, the plan's price. */
export function nodeChartSlots(node: GridNode, aggregate: NodeAggregate, data: DashboardData): ChartSlot[] {
  const planned = new Map(aggregate.plannedKw.map((slot) => [Date.parse(slot.start), slot.kw]));
  return data.fleet.slots.map((slot) => ({
    start: slot.start,
    pricePerKwh: slot.pricePerKwh,
    priceAssumed: slot.priceAssumed,
    limitKw: node.limitKw,
    // The tree stores a node's base load as kWh a year, not per slot: nothing is drawn for it (the
    // caption says so) rather than a guessed profile.
    baseLoadKw: 0,
    // The series id is what the legend shows.
    plannedKw: { [`planned charging under ${node.name}`]: planned.get(Date.parse(slot.start)) ?? 0 },
  }));
}

function nodeItem(node: GridNode): HTMLLIElement {
  const aggregate = tree.aggregates.get(node.id);
  const peak = peakKw(aggregate);
  const isOpen = tree.open.has(node.id);
  const canOpen = node.kind !== 'connection';
  const over = peak !== null && peak > node.limitKw + 1e-6;
  const item = h(
    'li',
    { 'data-node': node.id, 'data-kind': node.kind },
    canOpen
      ? h(
          'button',
          {
            type: 'button',
            class: 'tree-toggle',
            'aria-expanded': isOpen ? 'true' : 'false',
            'aria-label': `${isOpen ? 'Close' : 'Open'} ${node.name}`,
            'data-toggle-node': node.id,
          },
          isOpen ? '▾' : '▸',
        )
      : h('span', { class: 'tree-leaf', 'aria-hidden': 'true' }, '·'),
    h('b', {}, node.name),
    ` ${node.kind} · limit ${formatKw(node.limitKw)} · `,
    aggregate === undefined
      ? 'loading…'
      : `${aggregate.cars} cars, ${aggregate.plugged} plugged, ${aggregate.charging} charging · planned peak ${formatKw(peak ?? 0)}`,
    over ? h('span', { class: 'over-limit' }, ' over its limit') : null,
    ' ',
    h(
      'button',
      {
        type: 'button',
        'data-chart-node': node.id,
        'aria-pressed': tree.selected === node.id ? 'true' : 'false',
      },
      'Load chart',
    ),
  );
  if (isOpen) {
    const children = tree.children.get(node.id);
    const list = h('ul', { 'aria-label': `below ${node.name}` });
    if (!children) list.append(h('li', {}, 'loading…'));
    else if (children.items.length === 0) list.append(h('li', {}, 'nothing below this node'));
    else {
      for (const child of children.items.slice(0, CHILDREN_SHOWN)) list.append(nodeItem(child));
      if (!children.complete || children.items.length > CHILDREN_SHOWN)
        list.append(h('li', {}, `first ${CHILDREN_SHOWN} shown; filter the API by parentId for the rest`));
    }
    item.append(list);
  }
  return item;
}

function render(data: DashboardData | null): void {
  const target = byId('grid-tree');
  if (tree.roots.length === 0) {
    target.replaceChildren(
      h(
        'p',
        {},
        'No grid tree yet: one site, its limit below. An admin builds the tree with POST /api/grid/nodes and hangs cars on nodes with PUT /api/vehicles/{id}/grid-node.',
      ),
    );
    byId('node-chart').replaceChildren();
    return;
  }
  target.replaceChildren(
    h('ul', { class: 'grid-tree', 'aria-label': 'grid tree' }, ...tree.roots.map(nodeItem)),
  );
  const selected = tree.selected;
  const node = selected === null ? undefined : findNode(selected);
  const aggregate = selected === null ? undefined : tree.aggregates.get(selected);
  if (!node || !aggregate || !data) {
    byId('node-chart').replaceChildren();
    return;
  }
  const chart = h('div', { class: 'chart' });
  byId('node-chart').replaceChildren(
    h('h3', {}, `${node.name}: planned charging under its ${formatKw(node.limitKw)} limit`),
    chart,
    h(
      'p',
      { class: 'caption' },
      `Base load is not drawn: the tree holds it as ${Math.round(node.baseLoadKwhPerYear)} kWh a year, not per slot.`,
    ),
  );
  drawLoadChart(chart, data, {
    slots: nodeChartSlots(node, aggregate, data),
    maxSeries: 1,
    title: `${node.name} load`,
  });
}

function findNode(id: string): GridNode | undefined {
  return (
    tree.roots.find((node) => node.id === id) ??
    [...tree.children.values()].flatMap((page) => page.items).find((node) => node.id === id)
  );
}

/** Shown nodes: the roots and the children of opened nodes. */
function shownNodes(): GridNode[] {
  const shown: GridNode[] = [];
  const walk = (nodes: readonly GridNode[]): void => {
    for (const node of nodes.slice(0, CHILDREN_SHOWN)) {
      shown.push(node);
      if (tree.open.has(node.id)) walk(tree.children.get(node.id)?.items ?? []);
    }
  };
  walk(tree.roots);
  return shown;
}

/** Re-reads the roots, opened children and shown nodes' aggregates, then draws. */
export async function refreshGridTree(data: DashboardData | null): Promise<void> {
  tree.roots = (await apiGetAll<GridNode>('api/grid/nodes?topLevel=true', CHILDREN_SHOWN)).items;
  await Promise.all(
    [...tree.open].map(async (id) => {
      tree.children.set(
        id,
        await apiGetAll<GridNode>(`api/grid/nodes?parentId=${encodeURIComponent(id)}`, CHILDREN_SHOWN),
      );
    }),
  );
  const aggregates = await Promise.all(
    shownNodes().map((node) =>
      apiGet<NodeAggregate>(`api/grid/nodes/${encodeURIComponent(node.id)}/aggregate`),
    ),
  );
  tree.aggregates = new Map(aggregates.map((aggregate) => [aggregate.nodeId, aggregate]));
  render(data);
}

/** Opening, closing and charting nodes; `reload` re-reads and draws (the console's refresh). */
export function wireGridTree(reload: () => Promise<void>): void {
  byId('grid-tree').addEventListener('click', (event) => {
    const target = event.target as HTMLElement;
    const toggle = target.closest<HTMLElement>('[data-toggle-node]')?.dataset['toggleNode'];
    const chart = target.closest<HTMLElement>('[data-chart-node]')?.dataset['chartNode'];
    if (toggle) {
      if (!tree.open.delete(toggle)) tree.open.add(toggle);
      void reload();
    } else if (chart) {
      tree.selected = tree.selected === chart ? null : chart;
      void reload();
    }
  });
}
