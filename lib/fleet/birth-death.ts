import type { SessionCounter } from './session-counter';
import { offlineState, onlineState } from './site-state';
import { stateTopic } from './health-topics';

export interface StateMessage {
  topic: string;
  payload: string;
  qos: 1;
  retain: true;
}

/**
 * The site's birth and death on `tectonic/health/{site}/state`, owned by the
 * connection (tectonic-bus): MQTT gives a connection one last will, so the
 * nodes that share it (heartbeat, registry) build on this state and set no
 * will of their own.
 */
export class BirthAndDeath {
  constructor(
    readonly site: string,
    private readonly counter: SessionCounter,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The will for the next connection attempt: offline, with the session number that connection will have. */
  will(): StateMessage {
    return this.message(offlineState(this.counter.next, 'connection-lost', this.now()));
  }

  /** For a connection just made: takes the next session number (kept on disk) and says online. */
  birth(): StateMessage {
    return this.message(onlineState(this.counter.commit(), this.now()));
  }

  /** Published before a clean shutdown, as the will would be on a lost connection. */
  death(): StateMessage {
    return this.message(offlineState(this.counter.current, 'shutdown', this.now()));
  }

  get session(): number {
    return this.counter.current;
  }

  private message(state: object): StateMessage {
    return { topic: stateTopic(this.site), payload: JSON.stringify(state), qos: 1, retain: true };
  }
}
