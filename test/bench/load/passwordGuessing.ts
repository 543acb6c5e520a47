/**
 * Wrong-password joins of a private room: fresh sessions, each keeping one guess in flight and
 * guessing again as soon as it is answered, whatever the answer (a real guesser ignores
 * retryAfterMs). See PasswordGuessing in abuseProtocol.ts.
 */
import { randomUUID } from 'node:crypto';
import type { PasswordGuessing } from './abuseProtocol.js';
import { AttackRun, outcomeOf, postGraphQL } from './attackRun.js';
import { mapLimit } from './stats.js';

const CREATE_SESSION = 'mutation($name: String!) { createSession(name: $name) { token } }';
const JOIN = 'mutation($roomId: ID!, $password: String) { joinRoom(roomId: $roomId, password: $password) { id } }';

/** Attacker i's address: 10.<round>.<i / 256>.<i % 256>, one per attacker and round. */
function addressOf(attack: PasswordGuessing, i: number): string | undefined {
  return attack.spreadAddresses ? `10.${attack.round % 256}.${(i >> 8) % 256}.${i % 256}` : undefined;
}

export async function startPasswordGuessing(attack: PasswordGuessing, run: AttackRun): Promise<void> {
  const tag = randomUUID().slice(0, 6);
  const attackers = Array.from({ length: attack.attackers }, (_, i) => i);
  const tokens = await mapLimit(attackers, 16, async (i) => {
    const r = await postGraphQL(attack.url, CREATE_SESSION, { name: `guesser ${tag} ${i}` }, { forwardedFor: addressOf(attack, i) });
    const token = (r.data?.createSession as { token?: string } | undefined)?.token;
    if (!token) throw new Error(`attacker ${i} got no session: ${JSON.stringify(r.errors ?? r).slice(0, 300)}`);
    return token;
  });
  run.begin();
  for (const i of attackers) {
    const forwardedFor = addressOf(attack, i);
    run.loop('joinRoom', async (n) => {
      const r = await postGraphQL(attack.url, JOIN, { roomId: attack.roomId, password: `wrong-${tag}-${i}-${n}` }, { token: tokens[i], forwardedFor });
      run.note('joinRoom', outcomeOf(r));
    });
  }
}
