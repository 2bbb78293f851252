/** Temporal's four services and the ports each listens on. */
export const TEMPORAL_SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type TemporalService = (typeof TEMPORAL_SERVICES)[number];

/** Offsets from the frontend's gRPC port of every port the cluster listens on. */
export const CLUSTER_PORT_OFFSETS = [0, 1, 2, 6, 100, 101, 102, 106] as const;

/** Each service's gRPC and membership ports, from the frontend's. */
export function ports(frontendPort: number): Record<TemporalService, { grpc: number; membership: number }> {
  return {
    frontend: { grpc: frontendPort, membership: frontendPort + 100 },
    history: { grpc: frontendPort + 1, membership: frontendPort + 101 },
    matching: { grpc: frontendPort + 2, membership: frontendPort + 102 },
    worker: { grpc: frontendPort + 6, membership: frontendPort + 106 },
  };
}
