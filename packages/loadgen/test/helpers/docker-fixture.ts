/** What the docker driver's unit tests share: compose's labels, and the driver attached to a fake engine. */
import { afterEach, beforeEach } from 'node:test'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { attachDockerDriver, type DockerDriver, type DockerDriverInit } from '../../src/driver/docker-driver.js'
import { createEngineApi } from '../../src/driver/engine-api.js'
import { FakeEngine } from './fake-engine.js'

/** The labels compose puts on a service's container, plus rebound's role (none: not a member). */
export function composeLabels (service: string, role: string | undefined, number = 1, project = 'rebound'): Record<string, string> {
  return {
    'com.docker.compose.project': project,
    'com.docker.compose.service': service,
    'com.docker.compose.container-number': String(number),
    ...(role === undefined ? {} : { 'io.rebound.role': role })
  }
}

/** The driver on `engine`'s project `rebound`, copying logs to a scratch folder unless `init` says where. */
export async function attachFake (engine: FakeEngine, init: Partial<DockerDriverInit> = {}): Promise<DockerDriver> {
  return await attachDockerDriver({
    engine: createEngineApi({ socketPath: engine.socketPath }), project: 'rebound', logsDir: join(tmpdir(), `rebound-docker-test-${process.pid}`), ...init
  }, pino({ level: 'silent' }))
}

export interface FakeEngineFixture {
  engine: () => FakeEngine
  /** Attach the driver (stopped after the test, unless forget() was called after stopping it). */
  attach: (init?: Partial<DockerDriverInit>) => Promise<DockerDriver>
  forget: () => void
}

/** Before each test a fake engine holding what `fill` adds; after it, the driver and the engine stopped. */
export function fakeEngineEachTest (fill: (engine: FakeEngine) => void): FakeEngineFixture {
  let engine: FakeEngine | undefined
  let driver: DockerDriver | undefined
  beforeEach(async () => {
    engine = new FakeEngine()
    fill(engine)
    await engine.start()
  })
  afterEach(async () => {
    await driver?.stopAll()
    driver = undefined
    await engine?.stop()
  })
  const current = (): FakeEngine => {
    if (engine === undefined) throw new Error('no fake engine outside a test')
    return engine
  }
  return {
    engine: current,
    attach: async (init = {}) => {
      driver = await attachFake(current(), init)
      return driver
    },
    forget: () => { driver = undefined }
  }
}
