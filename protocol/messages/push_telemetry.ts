/**
 * PushTelemetry (key 72, KIP-714): a client's metrics, as OpenTelemetry
 * MetricsData protobuf, for the subscription GetTelemetrySubscriptions gave it.
 */
import type { ApiDef } from "../schema.ts";

export default {
  name: "PushTelemetry",
  apiKey: 72,
  validVersions: "0",
  request: {
    name: "PushTelemetryRequest",
    flexibleVersions: "0+",
    fields: [
      { name: "clientInstanceId", type: "uuid", versions: "0+" },
      { name: "subscriptionId", type: "int32", versions: "0+" },
      { name: "terminating", type: "bool", versions: "0+" },
      { name: "compressionType", type: "int8", versions: "0+" },
      { name: "metrics", type: "bytes", versions: "0+" },
    ],
  },
  response: {
    name: "PushTelemetryResponse",
    flexibleVersions: "0+",
    fields: [
      { name: "throttleTimeMs", type: "int32", versions: "0+" },
      { name: "errorCode", type: "int16", versions: "0+" },
    ],
  },
} satisfies ApiDef;
