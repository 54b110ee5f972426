/**
 * Values many rows of one statement share (an alert's body, a stream's metadata), each
 * sent once in the statement's parameters; rows carry its index instead of a copy.
 */
export class DistinctValues<V> {
  readonly values: V[] = [];
  private readonly index = new Map<V, number>();

  indexOf(value: V): number {
    let i = this.index.get(value);
    if (i === undefined) {
      i = this.values.push(value) - 1;
      this.index.set(value, i);
    }
    return i;
  }
}
