/**
 * The /rebound/data handler and GET /data: a user's contacts and mailbox in the shared store
 * (docs/durability.md). Every request is authenticated by its session ticket, which must name the
 * peer the Noise handshake authenticated on this connection; the ticket's user is the only user a
 * request reads or changes (no request field names a user). Requests cost one Ed25519 verify and
 * a few bounded SQLite statements, no scrypt, so they do not queue behind logins in admission:
 * they are bounded per connection by maxInboundStreams and in time by the stream deadlines
 * (rpc.ts) and their own deadline, which bounds the wait for another server's write lock.
 */
import type { KeyObject } from 'node:crypto'
import type { Connection } from '@libp2p/interface'
import {
  ReboundError, UserName, describeError, errorCodeOf, errorReply, verifyTicket,
  type DataReply, type DataRequest, type HttpHandler, type Logger
} from '@rebound/protocol'
import type { DataStore } from './data-store.js'
import type { BootstrapMetrics } from './metrics.js'
import { isOperatorBearer } from './operator-auth.js'

export interface DataServiceInit {
  clusterPublicKey: KeyObject
}

export interface DataServiceDeps {
  data: DataStore
  metrics: BootstrapMetrics
  /** Wall-clock milliseconds: ticket expiry is compared with it. */
  clock: () => number
  log: Logger
}

/** The request handler, to be wrapped by `serveRequests(DataRequest, ...)`. */
export function dataService (init: DataServiceInit, deps: DataServiceDeps): (req: DataRequest, connection: Connection) => Promise<DataReply> {
  const { data, metrics, clock, log } = deps

  /** Serve `req` for `user`, the ticket's user. Synchronous: each store call commits before it returns. */
  function serve (req: DataRequest, user: string): DataReply {
    const { storeId } = data
    const lockWaitMs = req.deadlineMs
    switch (req.type) {
      case 'contacts-get': {
        const page = data.getContacts(user, req.after)
        return { type: 'contacts', storeId, records: page.items, more: page.more }
      }
      case 'contacts-put':
        return { type: 'contacts-stored', storeId, ...data.putContacts(user, req.records, { lockWaitMs }) }
      case 'mailbox-put': {
        // Its sender puts a message (offline recipient, archive of a delivery); its recipient
        // archives its own inbox. Nobody else may write a message into anyone's mailbox.
        const forged = req.messages.find((m) => m.from !== user && m.to !== user)
        if (forged !== undefined) {
          throw new ReboundError('NOT_AUTHORIZED', `${user} can only mailbox messages from or to ${user}, not from ${forged.from} to ${forged.to}`, { user, from: forged.from, to: forged.to })
        }
        return { type: 'mailbox-stored', storeId, ...data.putMailbox(req.messages, { lockWaitMs }) }
      }
      case 'mailbox-get': {
        const page = data.getMailbox(user, req.afterSeq, req.limit)
        return { type: 'mailbox', storeId, entries: page.items, more: page.more }
      }
    }
  }

  return async (req, connection) => {
    const peerId = connection.remotePeer.toString()
    try {
      const { user } = verifyTicket(req.ticket, init.clusterPublicKey, { peerId, nowMs: clock() })
      const reply = serve(req, user)
      metrics.dataRequests.inc({ type: req.type, result: 'ok' })
      return reply
    } catch (err) {
      const code = errorCodeOf(err)
      metrics.dataRequests.inc({ type: req.type, result: code })
      if (code === 'INTERNAL') log.error({ peerId, type: req.type, err: describeError(err) }, 'data request failed')
      else log.debug({ peerId, type: req.type, code }, 'data request refused')
      return errorReply(err)
    }
  }
}

export interface UserDataRouteInit {
  operatorToken: string
}

/**
 * GET /data?user=U with `authorization: Bearer <operator token>`: the store's copy of U's data
 * (StoreUserData), for the load generator's checker. 401 without the token, 400 for a bad name.
 */
export function userDataRoute (init: UserDataRouteInit, deps: { data: DataStore }): HttpHandler {
  return ({ query, headers }) => {
    if (!isOperatorBearer(headers.authorization, init.operatorToken)) {
      return { status: 401, body: { code: 'NOT_AUTHORIZED', message: 'GET /data needs authorization: Bearer <operator token>' } }
    }
    const user = UserName.safeParse(query.get('user'))
    if (!user.success) throw new ReboundError('BAD_REQUEST', `user: ${user.error.issues[0]?.message ?? 'a user name is required'}`)
    return { status: 200, body: deps.data.userData(user.data) }
  }
}
