/**
 * Hard bounds on everything that crosses the wire. A frame above MAX_FRAME_BYTES ends its stream;
 * every field below is checked by the schemas in messages.ts before any handler sees it.
 */
export const MAX_FRAME_BYTES = 32 * 1024
export const MAX_USER_LENGTH = 32
export const USER_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/
export const MIN_PASSWORD_LENGTH = 4
export const MAX_PASSWORD_LENGTH = 128
export const MAX_BODY_BYTES = 4 * 1024
export const MAX_MESSAGE_ID_LENGTH = 64
export const MAX_TOKEN_LENGTH = 2048
export const MAX_ADDRS = 8
export const MAX_ADDR_LENGTH = 256
export const MAX_PEER_ID_LENGTH = 128
/** Supernodes handed to a client with a ticket, and cached by it (DESIGN: >= 20 entries). */
export const MAX_SUPERNODE_LIST = 32
/** Every request on the wire carries a deadline; none may ask for more than this. */
export const MAX_DEADLINE_MS = 60_000

/**
 * Session keepalive, on the session stream itself (a frame, not a new ping stream per second):
 * the client pings every SESSION_PING_INTERVAL_MS and gives up on a supernode it has not heard
 * from for SESSION_SILENCE_MS (a frozen supernode's clients re-home); the supernode drops a client
 * silent for SESSION_IDLE_MS. A frozen supernode's clients must be re-homed within 5 s (issue 4):
 * silence (noticed 1-2 s after the freeze, by the phase of the last pong) + the rest of the orphan
 * window (up to 1 s) + a hedged dial (1 s when the first choice is frozen too) + attach must fit.
 * At 2.5 s the 200-peer freeze re-homed its last orphan after 4.2-5.3 s (4 runs, one over); at 2 s
 * after 3.5-4.3 s (3 runs), and no healthy supernode's session was ended as silent in any of them.
 * Pinging faster costs every idle client: at 2 pings/s, 1000 clients in four swarm processes took
 * about a core of this 2-core machine before anything happened, and the starved processes then
 * missed each other's pongs. A healthy supernode on a saturated machine was seen to stall its
 * event loop for over 500 ms; a client whose own loop stalled does not judge (silence-watch.ts).
 */
export const SESSION_PING_INTERVAL_MS = 1000
export const SESSION_SILENCE_MS = 2000
export const SESSION_IDLE_MS = 10_000

/** Default lifetimes. Tickets are long-lived so that resumption survives a login-server outage. */
export const DEFAULT_TICKET_TTL_MS = 24 * 3600_000
export const DEFAULT_CERT_TTL_MS = 3600_000

/** User data (docs/durability.md): contact records per user, tombstones included. */
export const MAX_CONTACTS = 500
export const MAX_CONTACT_NAME_BYTES = 64
/** Records in one contacts-get reply or contacts-put request: ~150 bytes each, well inside a frame. */
export const MAX_CONTACTS_PER_FRAME = 100
/** Messages in one mailbox-put: 5 x 4 KiB bodies fit a 32 KiB frame. */
export const MAX_MAILBOX_PUT = 5
/** Entries asked for in one mailbox-get; the server also stops at MAX_MAILBOX_REPLY_BYTES of bodies. */
export const MAX_MAILBOX_GET = 100
export const MAX_MAILBOX_REPLY_BYTES = 20 * 1024
/** Messages a device keeps in its outbox, and the store keeps per recipient; beyond them BUSY. */
export const MAX_OUTBOX = 100_000
export const MAX_MAILBOX = 100_000
