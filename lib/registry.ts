/**
 * Decoders by message type, so that code which receives arbitrary
 * messages (the escape hatch, the monitor) can turn each into its typed
 * object without knowing every family. Each object file registers its own.
 */
export interface ObjectDecoder {
  /** 'link', 'addr', 'route', ... */
  object: string;
  /** Whether this message type announces a new object or a deletion. */
  event: 'new' | 'del';
  decode(buf: Buffer, offset: number, length: number): unknown;
}

const decoders = new Map<string, ObjectDecoder>();

export function registerDecoder(protocol: number, type: number, decoder: ObjectDecoder): void {
  decoders.set(`${protocol}:${type}`, decoder);
}

export function findDecoder(protocol: number, type: number): ObjectDecoder | undefined {
  return decoders.get(`${protocol}:${type}`);
}
