import { v5 as uuidv5 } from 'uuid';

const DELIVERY_NAMESPACE = '6f1c2b8e-5d0a-4c47-9a53-3e2f7b1d9c40';

/** Same alert + same endpoint → same delivery id, so a re-consumed alert creates nothing new. */
export function deliveryId(alertEventId: string, endpointId: string): string {
  return uuidv5(`${alertEventId}/${endpointId}`, DELIVERY_NAMESPACE);
}

const NOTICE_NAMESPACE = '0b7d4f4e-9b1e-4c8a-8f57-2a6c1d9e7f31';

/** The id of an operational notice: one per event that caused it (its stream and version), so a retried write makes no second. */
export function noticeId(streamId: string, version: number): string {
  return uuidv5(`${streamId}@${version}`, NOTICE_NAMESPACE);
}
