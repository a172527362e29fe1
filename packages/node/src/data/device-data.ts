/**
 * A client's user data in both failure domains (docs/durability.md): the device store, the data
 * client to the server store, and the three background tasks that keep them together: the
 * contacts sync (every 5 min), the outbox pass (every 5 s; it archives the inbox too) and the
 * mailbox fetch (every 30 s).
 * Each also runs at once when it has reason to: a ticket arrived (the first sync), a session
 * attached (fetch the mailbox, resend), or a reply named a new storeId (the server lost its data:
 * push everything again).
 */
import type { PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { ChatMessage, DeviceDataStatus, Logger } from '@rebound/protocol'
import type { PeerNode } from '../libp2p.js'
import { CONTACTS_SYNC_INTERVAL_MS, Contacts } from './contacts.js'
import type { Inbox } from '../client/inbox.js'
import { DataClient } from './data-client.js'
import { InboxArchive } from './inbox-archive.js'
import type { DeviceStore } from './device-store.js'
import { MAILBOX_FETCH_INTERVAL_MS, MailboxSync } from './mailbox-sync.js'
import { OUTBOX_PASS_INTERVAL_MS, Outbox, type Router } from './outbox.js'
import { PeriodicTask } from '../periodic-task.js'

/**
 * After the connection to a login server drops, the device looks at the store again (a mailbox
 * fetch, whose reply names the storeId) after U(0.5 s, this): a server that went down may come
 * back on a re-created store, and waiting for the 30 s fetch would leave the new store without
 * this device's data that long. Spread, so that every device of a restarted server does not ask
 * in the same second.
 */
export const STORE_CHECK_SPREAD_MS = 5000
const STORE_CHECK_MIN_MS = 500

export interface DeviceDataInit {
  user: string
  loginServers: string[]
}

export interface DeviceDataDeps {
  node: PeerNode
  store: DeviceStore
  /** The agent's current ticket, or null before the first login. */
  ticket: () => string | null
  route: Router
  attached: () => boolean
  /** The device's inbox (archived in the server mailbox by InboxArchive). */
  inbox: Inbox
  /** Store a message fetched from store `storeId`'s mailbox in the inbox, durably; true when new. */
  deliver: (message: ChatMessage, storeId: string) => boolean
  log: Logger
  random: () => number
  now: () => number
}

export class DeviceData {
  readonly contacts: Contacts
  readonly outbox: Outbox
  private readonly client: DataClient
  private readonly mailbox: MailboxSync
  private readonly inboxArchive: InboxArchive
  private readonly contactsTask: PeriodicTask
  private readonly outboxTask: PeriodicTask
  private readonly mailboxTask: PeriodicTask
  /** The storeId of the last reply, in this process. */
  private storeId: string | undefined
  private readonly loginServerIds: ReadonlySet<string>
  /** The pending look at the store after a login server's connection dropped (one at a time). */
  private storeCheck: NodeJS.Timeout | undefined
  private stopped = false

  constructor (init: DeviceDataInit, private readonly deps: DeviceDataDeps) {
    const { store, log, random } = deps
    this.client = new DataClient(init.loginServers, { node: deps.node, ticket: deps.ticket, random, log, onStoreId: (id) => { this.noticeStoreId(id) } })
    this.contacts = new Contacts(store, this.client, () => { this.contactsTask.kick() }, log)
    this.outbox = new Outbox({ store, client: this.client, route: deps.route, attached: deps.attached, now: deps.now, log })
    this.mailbox = new MailboxSync({ store, client: this.client, user: init.user, deliver: deps.deliver, log })
    this.inboxArchive = new InboxArchive({ inbox: deps.inbox, client: this.client, log })
    this.loginServerIds = new Set(init.loginServers.map((a) => multiaddr(a).getComponents().findLast((c) => c.name === 'p2p')?.value ?? ''))
    // Without a ticket there is nothing to ask: wait for onTicket/onAttached to kick.
    const withTicket = (run: () => Promise<boolean>) => async (): Promise<boolean> => deps.ticket() === null ? false : await run()
    this.contactsTask = new PeriodicTask({ name: 'contacts-sync', intervalMs: CONTACTS_SYNC_INTERVAL_MS, run: withTicket(async () => await this.contacts.sync()), log, random })
    const outboxPass = async (): Promise<boolean> => {
      const moreSent = await this.outbox.pass()
      return await this.inboxArchive.pass() || moreSent
    }
    this.outboxTask = new PeriodicTask({ name: 'outbox', intervalMs: OUTBOX_PASS_INTERVAL_MS, run: withTicket(outboxPass), log, random })
    this.mailboxTask = new PeriodicTask({ name: 'mailbox-fetch', intervalMs: MAILBOX_FETCH_INTERVAL_MS, run: withTicket(async () => await this.mailbox.fetch()), log, random })
  }

  /** After the agent started: a saved ticket (resumption) lets the first sync run at once. */
  start (): void {
    this.contactsTask.start()
    this.outboxTask.start()
    this.mailboxTask.start()
    this.deps.node.addEventListener('peer:disconnect', this.onDisconnect)
  }

  /** The agent got a ticket (login or renewal): the first sync can run. */
  onTicket (): void {
    if (!this.contacts.ready) this.contactsTask.kick()
  }

  /** A session attached: fetch what was mailboxed meanwhile, resend what is pending. */
  onAttached (): void {
    this.mailboxTask.kick()
    this.outboxTask.kick()
    if (!this.contacts.ready) this.contactsTask.kick()
  }

  /** For GET /status: how far this device is restored into the store its replies name. */
  status (): DeviceDataStatus {
    const { store } = this.deps
    return {
      storeId: this.storeId ?? null,
      contactsStoreId: store.syncedStoreId,
      contactsUnsynced: store.contacts.unsyncedCount(),
      contactsReady: this.contacts.ready,
      mailboxStoreId: store.mailboxCursor().storeId,
      inboxUnarchived: this.deps.inbox.unarchivedCount()
    }
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.deps.node.removeEventListener('peer:disconnect', this.onDisconnect)
    clearTimeout(this.storeCheck)
    await this.mailboxTask.stop()
    await this.outboxTask.stop()
    await this.contactsTask.stop()
    this.client.close()
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    if (this.stopped || this.storeCheck !== undefined || !this.loginServerIds.has(evt.detail.toString())) return
    const delayMs = STORE_CHECK_MIN_MS + Math.floor(this.deps.random() * (STORE_CHECK_SPREAD_MS - STORE_CHECK_MIN_MS))
    this.storeCheck = setTimeout(() => {
      this.storeCheck = undefined
      this.mailboxTask.kick()
    }, delayMs)
  }

  private noticeStoreId (storeId: string): void {
    if (storeId === this.storeId) return
    // The first reply of this process, or a store re-created since the last one.
    const changed = this.storeId !== undefined
    this.storeId = storeId
    const forgotten = this.outbox.noticeStoreId(storeId) + this.deps.inbox.forgetArchivesOutside(storeId)
    if (forgotten > 0 || changed) this.outboxTask.kick()
    if (this.contacts.noticeStoreId(storeId)) this.contactsTask.kick()
    if (changed) this.mailboxTask.kick()
  }
}
