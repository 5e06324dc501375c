/**
 * The portal's counters, rendered in the Prometheus text exposition format for `GET /metrics`.
 * Labels come from fixed sets (routes, results), never from request input, so the series stay few.
 */

export type PublishResult =
  | "accepted"
  | "unauthorized"
  | "forbidden"
  | "too_large"
  | "bad_request"
  | "rate_limited"
  | "unavailable";

export class WebMetrics {
  readonly started = Date.now();
  eventsReceived = 0;
  framesWritten = 0;
  sseConnections = 0;
  sseRejected = 0;
  sseSlowDropped = 0;
  sseReplayed = 0;
  /** Time spent writing new events to every client (the fan-out's own cost). */
  broadcastSeconds = 0;
  broadcasts = 0;
  broadcastMaxSeconds = 0;
  readonly publish = new Map<PublishResult, number>();
  readonly requests = new Map<string, number>();

  countPublish(r: PublishResult): void {
    this.publish.set(r, (this.publish.get(r) ?? 0) + 1);
  }

  timeBroadcast(seconds: number): void {
    this.broadcastSeconds += seconds;
    this.broadcasts++;
    if (seconds > this.broadcastMaxSeconds) this.broadcastMaxSeconds = seconds;
  }

  countRequest(route: string, status: number): void {
    const key = `route="${route}",code="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  /** The exposition text; `gauges` are read at scrape time. */
  render(bot: string, gauges: { sseClients: number; historyEvents: number; lastSeq: number }): string {
    const lines: string[] = [];
    const b = `bot="${bot}"`;
    const metric = (name: string, type: "counter" | "gauge", help: string, samples: Array<[string, number]>) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of samples) lines.push(`${name}{${b}${labels ? "," + labels : ""}} ${v}`);
    };
    metric("bustle_web_events_received_total", "counter", "Events the portal received from the bus.", [
      ["", this.eventsReceived],
    ]);
    metric("bustle_web_sse_frames_written_total", "counter", "Event frames written to live-page clients.", [
      ["", this.framesWritten],
    ]);
    metric("bustle_web_sse_clients", "gauge", "Connected Server-Sent Events clients.", [["", gauges.sseClients]]);
    metric("bustle_web_sse_connections_total", "counter", "Server-Sent Events connections accepted.", [
      ["", this.sseConnections],
    ]);
    metric(
      "bustle_web_sse_rejected_total",
      "counter",
      "Server-Sent Events connections refused because the portal was full.",
      [["", this.sseRejected]],
    );
    metric("bustle_web_sse_slow_dropped_total", "counter", "Clients disconnected because they could not keep up.", [
      ["", this.sseSlowDropped],
    ]);
    metric("bustle_web_sse_replayed_total", "counter", "Events re-sent to reconnecting clients.", [
      ["", this.sseReplayed],
    ]);
    lines.push(
      "# HELP bustle_web_broadcast_seconds Time to write one new event to every live client.",
      "# TYPE bustle_web_broadcast_seconds summary",
    );
    lines.push(
      `bustle_web_broadcast_seconds_sum{${b}} ${this.broadcastSeconds}`,
      `bustle_web_broadcast_seconds_count{${b}} ${this.broadcasts}`,
    );
    metric("bustle_web_broadcast_seconds_max", "gauge", "Longest fan-out of one event so far.", [
      ["", this.broadcastMaxSeconds],
    ]);
    metric("bustle_web_history_events", "gauge", "Events held in memory.", [["", gauges.historyEvents]]);
    metric("bustle_web_last_seq", "gauge", "Stream sequence of the newest event held.", [["", gauges.lastSeq]]);
    metric(
      "bustle_web_publish_total",
      "counter",
      "Publish requests by result.",
      [...this.publish].map(([r, v]) => [`result="${r}"`, v]),
    );
    metric(
      "bustle_web_http_requests_total",
      "counter",
      "HTTP requests by route and status.",
      [...this.requests].map(([k, v]) => [k, v]),
    );
    const mem = process.memoryUsage();
    metric("bustle_web_process_resident_memory_bytes", "gauge", "Resident memory of the bot process.", [["", mem.rss]]);
    metric("bustle_web_process_heap_used_bytes", "gauge", "V8 heap in use.", [["", mem.heapUsed]]);
    metric("bustle_web_uptime_seconds", "gauge", "Seconds since the portal started.", [
      ["", Math.round((Date.now() - this.started) / 1000)],
    ]);
    return lines.join("\n") + "\n";
  }
}
