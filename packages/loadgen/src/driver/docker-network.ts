/**
 * Partitions for the docker driver: a container taken off its networks keeps running (unlike
 * SIGSTOP, its own timers and health checks go on), and everyone's packets to it are dropped, so
 * its connections go silent from both ends. It comes back on the same address and DNS names,
 * since the cluster's configuration names the login servers' and supernodes' addresses, and a
 * peer's new address would look like a different machine.
 * Engine API: POST /networks/{id}/disconnect (Force) and /networks/{id}/connect with
 * EndpointConfig.IPAMConfig.IPv4Address; an address outside the network's ip_range is accepted
 * as long as it is in its subnet and free, and the one just released is.
 */
import type { ContainerInspect, EngineApi } from './engine-api.js'

/** Where a container was on one network. */
export interface Endpoint {
  networkId: string
  ip: string
  aliases: string[]
}

export function endpointsOf (info: ContainerInspect): Endpoint[] {
  return Object.values(info.NetworkSettings.Networks)
    .filter((n) => n.NetworkID !== '')
    .map((n) => ({ networkId: n.NetworkID, ip: n.IPAddress, aliases: [...n.Aliases] }))
}

/** Take the container off every network it is on (in parallel); returns where it was. */
export async function cutOff (engine: EngineApi, containerId: string): Promise<Endpoint[]> {
  const endpoints = endpointsOf(await engine.inspect(containerId))
  await Promise.all(endpoints.map(async (e) => { await engine.disconnect(e.networkId, containerId) }))
  return endpoints
}

/** Put it back where it was, same address and aliases. */
export async function reconnect (engine: EngineApi, containerId: string, endpoints: readonly Endpoint[]): Promise<void> {
  await Promise.all(endpoints.map(async (e) => { await engine.connect(e.networkId, containerId, e.ip, e.aliases) }))
}
