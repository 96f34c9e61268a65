/**
 * GetTelemetrySubscriptions (key 71, KIP-714): which client metrics the broker
 * wants a client to push, how often, how big and in which compressions. A
 * client sends the zero UUID first and is given its instance id.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "GetTelemetrySubscriptions",
  apiKey: 71,
  validVersions: "0",
  request: {
    name: "GetTelemetrySubscriptionsRequest",
    flexibleVersions: "0+",
    fields: [
      {
        name: "clientInstanceId",
        type: "uuid",
        versions: "0+",
        about: "the zero UUID on a client's first request",
      },
    ],
  },
  response: {
    name: "GetTelemetrySubscriptionsResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
      { name: "clientInstanceId", type: "uuid", versions: "0+" },
      { name: "subscriptionId", type: "int32", versions: "0+" },
      {
        name: "acceptedCompressionTypes",
        type: "[]int8",
        versions: "0+",
        about: "compression type ids, as in record batches",
      },
      { name: "pushIntervalMs", type: "int32", versions: "0+" },
      { name: "telemetryMaxBytes", type: "int32", versions: "0+" },
      { name: "deltaTemporality", type: "bool", versions: "0+" },
      {
        name: "requestedMetrics",
        type: "[]string",
        versions: "0+",
        about: "metric name prefixes: none pushes nothing, one empty string pushes all",
      },
    ],
  },
} satisfies ApiDef;
