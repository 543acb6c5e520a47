import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The node's Prometheus metrics (served at /metrics). One registry per node instance. */
export function createMetrics(nodeId: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ node: nodeId });
  collectDefaultMetrics({ register: registry });
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers: [registry] });
  const gauge = (name: string, help: string) => new Gauge({ name, help, registers: [registry] });
  const deliveries = { count: 0 };
  new Counter({
    name: 'chat_deliveries_total',
    help: 'Room events delivered to subscribers on this node',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(deliveries.count);
    },
  });
  return {
    registry,
    eventsAppended: counter('chat_events_appended_total', 'Room events appended to the log by this node', ['type']),
    /** Counted in a plain number on the hot path and copied into the metric at scrape time. */
    deliveries,
    publishFailures: counter('chat_publish_failures_total', 'Broker publishes that failed (repaired from the log)'),
    repairedEvents: counter('chat_repaired_events_total', 'Events a room feed read from the log because the broker did not bring them'),
    slowConsumers: counter('chat_slow_consumer_disconnects_total', 'Subscriptions ended because the client read too slowly'),
    rateLimited: counter('chat_rate_limited_total', 'Writes refused by a rate limit or a wrong-password delay', ['kind']),
    wsConnections: gauge('chat_ws_connections', 'Open WebSocket connections'),
    subscriptions: gauge('chat_subscriptions', 'Active subscriptions on this node'),
    followedRooms: gauge('chat_followed_rooms', 'Rooms this node follows for its subscribers'),
    projectionPosition: gauge('chat_projection_position', 'Log position the read models have applied'),
    commandSeconds: new Histogram({
      name: 'chat_command_seconds',
      help: 'Time to decide and append a command',
      labelNames: ['command'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
