/**
 * An in-memory server store with the contract of docs/durability.md (/rebound/data), for unit
 * tests of the device side: per user a last-writer-wins contact map and a mailbox (seq, deduped by
 * id), a storeId that changes when the store is wiped, and injectable failures.
 */
import { randomBytes } from 'node:crypto'
import { ReboundError, type ChatMessage, type ContactRecord, type ErrorCode, type MailboxEntry } from '@rebound/protocol'
import type { DataApi, DataReplyOf } from '../src/data/data-client.js'

export class FakeDataStore {
  storeId = FakeDataStore.newId()
  contacts = new Map<string, Map<string, ContactRecord>>()
  mailboxes = new Map<string, MailboxEntry[]>()
  private seq = 0
  /** The next requests fail with these codes, in order (nothing is committed). */
  failures: ErrorCode[] = []
  requests = 0

  constructor (readonly pageSize = 100) {}

  static newId (): string {
    return randomBytes(9).toString('base64url')
  }

  /** The store file deleted and created again. */
  wipe (): void {
    this.storeId = FakeDataStore.newId()
    this.contacts.clear()
    this.mailboxes.clear()
    this.seq = 0
  }

  /** A client for `user`, reporting every reply's storeId like DataClient. */
  client (user: string, onStoreId: (storeId: string) => void = () => {}): DataApi {
    const reply = <T>(value: T & { storeId: string }): T => {
      onStoreId(value.storeId)
      return value
    }
    const gate = async (): Promise<void> => {
      this.requests++
      await Promise.resolve()
      const code = this.failures.shift()
      if (code !== undefined) throw new ReboundError(code, `injected ${code}`)
    }
    return {
      contactsGet: async (after): Promise<DataReplyOf<'contacts'>> => {
        await gate()
        const all = [...(this.contacts.get(user)?.values() ?? [])].sort((a, b) => a.contact < b.contact ? -1 : a.contact > b.contact ? 1 : 0)
        const rest = after === undefined ? all : all.filter((r) => r.contact > after)
        const records = rest.slice(0, this.pageSize)
        return reply({ type: 'contacts', storeId: this.storeId, records, more: rest.length > records.length })
      },
      contactsPut: async (records): Promise<DataReplyOf<'contacts-stored'>> => {
        await gate()
        let map = this.contacts.get(user)
        if (map === undefined) this.contacts.set(user, map = new Map())
        let applied = 0
        for (const r of records) {
          const have = map.get(r.contact)
          if (have === undefined || have.rev < r.rev) {
            map.set(r.contact, { ...r })
            applied++
          }
        }
        return reply({ type: 'contacts-stored', storeId: this.storeId, applied, stale: records.length - applied })
      },
      mailboxPut: async (messages: ChatMessage[]): Promise<DataReplyOf<'mailbox-stored'>> => {
        await gate()
        if (messages.some((m) => m.from !== user && m.to !== user)) throw new ReboundError('NOT_AUTHORIZED', 'neither from nor to the ticket user')
        let stored = 0
        for (const m of messages) {
          let box = this.mailboxes.get(m.to)
          if (box === undefined) this.mailboxes.set(m.to, box = [])
          if (box.some((e) => e.message.id === m.id)) continue
          box.push({ seq: ++this.seq, message: { ...m } })
          stored++
        }
        return reply({ type: 'mailbox-stored', storeId: this.storeId, stored, duplicates: messages.length - stored })
      },
      mailboxGet: async (afterSeq, limit): Promise<DataReplyOf<'mailbox'>> => {
        await gate()
        const rest = (this.mailboxes.get(user) ?? []).filter((e) => e.seq > afterSeq)
        const entries = rest.slice(0, Math.min(limit, this.pageSize))
        return reply({ type: 'mailbox', storeId: this.storeId, entries, more: rest.length > entries.length })
      }
    }
  }

  mailboxIds (user: string): string[] {
    return (this.mailboxes.get(user) ?? []).map((e) => e.message.id)
  }

  contactsOf (user: string): ContactRecord[] {
    return [...(this.contacts.get(user)?.values() ?? [])].sort((a, b) => a.contact < b.contact ? -1 : 1)
  }
}
