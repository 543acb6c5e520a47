import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';

/** The header a client that cannot send JSON may set instead (Yoga's own name for it). */
export const CSRF_HEADER = 'x-graphql-yoga-csrf';

/**
 * Yoga's CSRF prevention for requests that can change something. Any web page can make a visitor's
 * browser POST a form (`application/x-www-form-urlencoded`, `multipart/form-data`, `text/plain`)
 * to the node without asking first, and Yoga runs a form-encoded POST as a GraphQL request: such a
 * POST is now refused (403) unless it carries the `x-graphql-yoga-csrf` header, which no page can
 * add to another site's request without a CORS preflight the node does not grant. JSON POSTs (every
 * client here, GraphiQL included) already need that preflight and pass.
 *
 * GET is left out, unlike Yoga's default: a GET never runs a mutation (Yoga answers 405), sessions
 * are bearer tokens rather than cookies, so a cross-site GET reads nothing the attacker could not
 * read itself; and plain GET queries and EventSource subscriptions, which cannot add a header, are
 * part of the API (docs/api.md, "Transports").
 */
export function useCsrfPrevention(): Plugin<Record<string, unknown>> {
  const yogaCsrf = useCSRFPrevention({ requestHeaders: [CSRF_HEADER] });
  const check = yogaCsrf.onRequestParse!;
  return {
    onRequestParse(payload) {
      if (payload.request.method === 'GET') return;
      try {
        return check(payload as never);
      } catch {
        // Yoga's own refusal, with our error code and a message that says what to send instead.
        throw createGraphQLError(`a form post cannot run GraphQL: send Content-Type: application/json (or the ${CSRF_HEADER} header)`, {
          extensions: { code: 'FORBIDDEN', http: { status: 403 } },
        });
      }
    },
  };
}
