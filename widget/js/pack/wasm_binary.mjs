// Just enough of the wasm binary format to walk its sections and rewrite names.

export function unsignedLeb(value) {
  const bytes = [];
  let rest = value;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest !== 0);
  return Buffer.from(bytes);
}

/** A cursor over a wasm binary. */
export class Reader {
  constructor(bytes, position) {
    this.bytes = bytes;
    this.position = position;
  }

  u32() {
    let result = 0;
    let shift = 0;
    let byte;
    do {
      byte = this.bytes[this.position++];
      result |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    return result >>> 0;
  }

  name() {
    const length = this.u32();
    const text = this.bytes.subarray(this.position, this.position + length).toString('utf8');
    this.position += length;
    return text;
  }

  /** Skips an import's description and returns its bytes. */
  importDescription() {
    const start = this.position;
    const kind = this.bytes[this.position++];
    if (kind === 0) {
      this.u32(); // function: type index
    } else if (kind === 1 || kind === 2) {
      if (kind === 1) this.position++; // table: element type
      const flags = this.bytes[this.position++]; // limits
      this.u32();
      if (flags & 1) this.u32();
    } else if (kind === 3) {
      this.position += 2; // global: value type, mutability
    } else if (kind === 4) {
      this.position++; // tag: attribute
      this.u32();
    } else {
      throw new Error(`unknown import kind ${kind}`);
    }
    return this.bytes.subarray(start, this.position);
  }
}
