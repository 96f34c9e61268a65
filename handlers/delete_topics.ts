/**
 * DeleteTopics (key 20), versions 1-6; v6 names topics by name or id
 * (KIP-516). The topic, its index and its producer state leave the meta store
 * in one step; the log bytes go at the next sweep, once nothing points to them.
 */

import { DELETE_TOPICS_API, type DeleteTopicsResponseTopic } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import { allowedTopic, Op } from "./_authorize.ts";
import { defineHandler } from "./types.ts";

export const deleteTopics = defineHandler({
  api: DELETE_TOPICS_API,
  minVersion: 1,
  maxVersion: 6,
  async handle(req, ctx) {
    const { broker } = ctx;
    const wanted = ctx.apiVersion >= 6
      ? req.topics.map((t) => ({ name: t.name, topicId: t.topicId }))
      : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    const responses: DeleteTopicsResponseTopic[] = [];
    for (const w of wanted) {
      const r: DeleteTopicsResponseTopic = {
        name: w.name,
        topicId: w.topicId,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
      };
      responses.push(r);
      if (w.name && !allowedTopic(ctx, Op.DELETE, w.name)) {
        r.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        continue;
      }
      try {
        const topic = w.name !== null && w.name !== ""
          ? await broker.meta.getTopic(w.name)
          : await broker.meta.getTopicById(w.topicId);
        if (!topic || (w.topicId !== ZERO_UUID && topic.id !== w.topicId)) {
          r.errorCode = w.name ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.UNKNOWN_TOPIC_ID;
          continue;
        }
        if (!allowedTopic(ctx, Op.DELETE, topic.name)) {
          // By id: Kafka does not tell an unauthorized caller the name.
          r.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          continue;
        }
        r.name = topic.name;
        r.topicId = topic.id;
        if (!(await broker.meta.deleteTopic(topic.name))) {
          r.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        }
        broker.topics.forget(topic.name);
      } catch (e) {
        broker.metrics.storeError("meta", "deleteTopic");
        r.errorCode = ErrorCode.REQUEST_TIMED_OUT;
        r.errorMessage = `Meta store failed: ${(e as Error).message}`;
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});
