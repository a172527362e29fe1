/**
 * The seeded population: one user per peer, a password derived from the seed (so a replayed run
 * logs in with the same credentials) and a directed contact graph of 3-5 contacts each.
 */
import { workloadPassword } from '@rebound/protocol'
import type { Prng } from './prng.js'

export const MIN_CONTACTS = 3
export const MAX_CONTACTS = 5
/** Draws per contact before falling back to a full shuffle (only hit in tiny populations). */
const MAX_DRAWS_PER_CONTACT = 20

/** The account password of `user` in the run with `seed` (shared with rebound-swarm via protocol). */
export const derivePassword: (seed: number, user: string) => string = workloadPassword

export type ContactGraph = ReadonlyMap<string, readonly string[]>

export function buildContactGraph (users: readonly string[], prng: Prng): ContactGraph {
  const graph = new Map<string, string[]>()
  for (const user of users) {
    const want = Math.min(prng.int(MIN_CONTACTS, MAX_CONTACTS), users.length - 1)
    graph.set(user, chooseContacts(user, users, want, prng))
  }
  return graph
}

function chooseContacts (user: string, users: readonly string[], want: number, prng: Prng): string[] {
  if (want <= 0) return []
  const chosen = new Set<string>()
  for (let draw = 0; draw < want * MAX_DRAWS_PER_CONTACT && chosen.size < want; draw++) {
    const other = prng.pick(users)
    if (other !== user) chosen.add(other)
  }
  if (chosen.size < want) {
    for (const other of prng.shuffle(users)) {
      if (chosen.size >= want) break
      if (other !== user) chosen.add(other)
    }
  }
  return [...chosen]
}
