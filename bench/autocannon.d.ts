// The part of autocannon 9's API that bench/server.ts uses (the package ships no types).
declare module "autocannon" {
  type Histogram = { average: number; mean: number; total: number; p50: number; p90: number; p99: number };
  export type Result = { requests: Histogram; latency: Histogram; non2xx: number; errors: number; timeouts: number };
  export type Options = {
    url: string;
    connections?: number;
    pipelining?: number;
    duration?: number;
    amount?: number;
    overallRate?: number;
    requests?: Record<string, unknown>[];
  };
  export type Instance = Promise<Result> & {
    on(event: "response", listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): Instance;
  };
  export default function autocannon(options: Options): Instance;
}
