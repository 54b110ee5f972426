import type { AlertEvent } from '@tocsin/contracts';

/** In-process notice, published after commit, that an incident opened or resolved. */
export class IncidentChanged {
  constructor(readonly alert: AlertEvent) {}
}
