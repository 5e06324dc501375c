/** The `metrics:` section of node.yaml and control.yaml (apart from the server, so loading a config stays light). */
import { object, string, type Infer } from "./schema.js";

export const metricsSectionSchema = object({
  listen: string({
    pattern: /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/,
    describe: 'a "host:port" to serve /metrics and /healthz on, like "127.0.0.1:9464"',
  }),
});
export type MetricsSection = Infer<typeof metricsSectionSchema>;
