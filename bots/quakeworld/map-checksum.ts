/**
 * The map checksum a client proves it has the server's map with (servers with sv_mapcheck 1
 * drop clients that send the wrong one, spectators included). It is the XOR of an MD4-based
 * block checksum over the BSP's lumps, leaving out entities, visibility, leafs and nodes
 * ("checksum2", which is what clients send). Node's OpenSSL no longer offers MD4, so it is here.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";

const rotl = (x: number, s: number) => ((x << s) | (x >>> (32 - s))) >>> 0;

/** MD4 (RFC 1320) of `data`, as its four little-endian 32-bit words. */
export function md4Words(data: Uint8Array): [number, number, number, number] {
  const bitLen = data.length * 8;
  const padded = Buffer.alloc((((data.length + 8) >> 6) + 1) * 64);
  Buffer.from(data.buffer, data.byteOffset, data.length).copy(padded);
  padded[data.length] = 0x80;
  padded.writeUInt32LE(bitLen >>> 0, padded.length - 8);
  padded.writeUInt32LE(Math.floor(bitLen / 2 ** 32), padded.length - 4);
  let [a, b, c, d] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
  const x = new Array<number>(16);
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) x[i] = padded.readUInt32LE(off + i * 4);
    const [aa, bb, cc, dd] = [a, b, c, d];
    const round = (f: (p: number, q: number, r: number) => number, k: number, order: number[], shifts: number[]) => {
      for (let i = 0; i < 16; i++) {
        const s = shifts[i % 4]!;
        const t = (a + f(b, c, d) + x[order[i]!]! + k) >>> 0;
        [a, b, c, d] = [d, rotl(t, s), b, c];
      }
    };
    round((p, q, r) => (p & q) | (~p & r), 0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], [3, 7, 11, 19]);
    round(
      (p, q, r) => (p & q) | (p & r) | (q & r),
      0x5a827999,
      [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15],
      [3, 5, 9, 13],
    );
    round((p, q, r) => p ^ q ^ r, 0x6ed9eba1, [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15], [3, 9, 11, 15]);
    [a, b, c, d] = [(a + aa) >>> 0, (b + bb) >>> 0, (c + cc) >>> 0, (d + dd) >>> 0];
  }
  return [a, b, c, d];
}

export function blockChecksum(data: Uint8Array): number {
  const [a, b, c, d] = md4Words(data);
  return (a ^ b ^ c ^ d) >>> 0;
}

const SKIPPED_LUMPS = new Set([0, 4, 5, 10]); // entities, visibility, nodes, leafs

/** checksum2 of a BSP file's bytes, as the signed integer clients print; undefined if not a BSP. */
export function mapChecksum2(bsp: Buffer): number | undefined {
  if (bsp.length < 124) return undefined;
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    const ofs = bsp.readInt32LE(4 + i * 8);
    const len = bsp.readInt32LE(8 + i * 8);
    if (ofs < 0 || len < 0 || ofs + len > bsp.length) return undefined;
    if (SKIPPED_LUMPS.has(i)) continue;
    sum = (sum ^ blockChecksum(bsp.subarray(ofs, ofs + len))) >>> 0;
  }
  return sum | 0;
}

/** Only a plain file name inside the maps folder: no paths, no tricks from a hostile server. */
const MAP_PATH_RE = /^maps\/([A-Za-z0-9_+-][A-Za-z0-9_.+-]{0,63})\.bsp$/;

/** The checksum for the server's map (as named in its model list) from `dir`, cached by mtime. */
export class MapChecksums {
  private cache = new Map<string, { mtimeMs: number; sum: number | undefined }>();

  constructor(private readonly dir: string | undefined) {}

  async forModel(modelPath: string): Promise<number | undefined> {
    const m = MAP_PATH_RE.exec(modelPath);
    if (!m || !this.dir) return undefined;
    const file = join(this.dir, `${m[1]}.bsp`);
    try {
      const st = await stat(file);
      const hit = this.cache.get(file);
      if (hit && hit.mtimeMs === st.mtimeMs) return hit.sum;
      const sum = mapChecksum2(await readFile(file));
      this.cache.set(file, { mtimeMs: st.mtimeMs, sum });
      return sum;
    } catch {
      return undefined;
    }
  }
}
