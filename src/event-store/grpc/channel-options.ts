// How the gRPC client's channel behaves: message sizes, reconnecting, keepalive and flow
// control, each chosen for an event store client and said why, apart from the client's logic.

export const CHANNEL_OPTIONS = {
  // A full page of large events is bigger than gRPC's 4 MiB default.
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  // After a server restart, reconnect within about a second rather than grpc's default
  // backoff of up to two minutes, so followers resume promptly.
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 1_000,
  // A connection that dies without a word (a host gone, a partition) answers no ping:
  // while a call is open, that fails the call within 40 s, so a subscription reconnects
  // and an append is resent instead of waiting forever. No pings on an idle channel,
  // which servers of other implementations may take for abuse.
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  // How much the server may send before this client acknowledges it: HTTP/2's default of
  // 64 KiB is some 160 events, after which a catch-up waits a round trip for each window;
  // 1 MiB keeps the server busy (and costs at most that much buffered here).
  'grpc-node.flow_control_window': 1024 * 1024,
};
