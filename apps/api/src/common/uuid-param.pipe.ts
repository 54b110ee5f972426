import { NotFoundException, type PipeTransform } from '@nestjs/common';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path id that cannot exist answers 404, like another tenant's id does. */
export class ResourceIdPipe implements PipeTransform<string, string> {
  constructor(private readonly resource: string) {}

  transform(value: string): string {
    if (!UUID.test(value)) throw new NotFoundException(`${this.resource} ${value} not found`);
    return value.toLowerCase();
  }
}

export function notFound(resource: string, id: string): NotFoundException {
  return new NotFoundException(`${resource} ${id} not found`);
}
