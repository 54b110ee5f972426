/**
 * The one place where older stored event versions are lifted to the current shape.
 * Register `'<Type>@<version>'` → function returning the next version; reads apply the
 * chain until no upcaster matches.
 */
export interface VersionedData {
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: Record<string, unknown>;
}

type Upcaster = (data: Record<string, unknown>) => Record<string, unknown>;

const UPCASTERS: Record<string, Upcaster> = {};

export function upcast(event: VersionedData): VersionedData {
  let current = event;
  for (let step = UPCASTERS[`${current.type}@${current.schemaVersion}`]; step; ) {
    current = { type: current.type, schemaVersion: current.schemaVersion + 1, data: step(current.data) };
    step = UPCASTERS[`${current.type}@${current.schemaVersion}`];
  }
  return current;
}
