import { v5 as uuidv5 } from 'uuid';

const DELIVERY_NAMESPACE = '6f1c2b8e-5d0a-4c47-9a53-3e2f7b1d9c40';

/** Same alert + same endpoint → same delivery id, so a re-consumed alert creates nothing new. */
export function deliveryId(alertEventId: string, endpointId: string): string {
  return uuidv5(`${alertEventId}/${endpointId}`, DELIVERY_NAMESPACE);
}
