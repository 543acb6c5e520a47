import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { payloadTooLarge } from '../../domain/errors.js';
import { toGraphQLError } from '../../../schema/errors.js';

/**
 * MAX_RESPONSE_BYTES: a query or mutation whose answer would be larger is answered with
 * PAYLOAD_TOO_LARGE instead (over HTTP and over a WebSocket alike). The cost limit (listCost.ts)
 * bounds how many objects an answer holds, but not how large each is (a message body can be
 * thousands of characters): this bounds what one answer can put on a socket.
 *
 * Measured on the result itself, serialized as it will be sent; the result is then dropped before
 * anything is written, so the client gets one short error instead of a cut-off answer.
 */
export function useResponseSize(maxBytes: number): Plugin<Record<string, unknown>> {
  return {
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result)) return;
          const bytes = Buffer.byteLength(JSON.stringify(result));
          if (bytes <= maxBytes) return;
          const message = `the answer would be ${bytes} bytes, over the limit of ${maxBytes}: ask for fewer items (a lower limit) or fewer fields`;
          setResult({ errors: [toGraphQLError(payloadTooLarge(message))!] });
        },
      };
    },
  };
}
