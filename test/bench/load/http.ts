/** GraphQL over HTTP for setup steps (sessions, rooms, joins): the public contract only. */

export interface Session {
  token: string;
  userId: string;
}

export class GraphQLRequestError extends Error {
  override name = 'GraphQLRequestError';
}

export async function gqlHttp<T>(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let body: { data?: T; errors?: unknown[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new GraphQLRequestError(`HTTP ${res.status}: ${text.slice(0, 200)}`);
  }
  if (body.errors?.length || !body.data) {
    throw new GraphQLRequestError(`HTTP ${res.status}: ${JSON.stringify(body.errors ?? body).slice(0, 300)}`);
  }
  return body.data;
}

export async function createSession(url: string, name: string): Promise<Session> {
  const data = await gqlHttp<{ createSession: { token: string; user: { id: string } } }>(
    url,
    'mutation($name: String!) { createSession(name: $name) { token user { id } } }',
    { name },
  );
  return { token: data.createSession.token, userId: data.createSession.user.id };
}

export async function createRoom(url: string, token: string, name: string): Promise<string> {
  const data = await gqlHttp<{ createRoom: { id: string } }>(
    url,
    'mutation($name: String!) { createRoom(name: $name) { id } }',
    { name },
    token,
  );
  return data.createRoom.id;
}

export async function joinRoom(url: string, token: string, roomId: string): Promise<void> {
  await gqlHttp<{ joinRoom: { id: string } }>(url, 'mutation($roomId: ID!) { joinRoom(roomId: $roomId) { id } }', { roomId }, token);
}
