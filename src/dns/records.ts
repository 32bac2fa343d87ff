/**
 * Resource records as crdns holds them in memory: already validated, names in
 * canonical form (see name.ts), rdata shaped the way dns-packet encodes it so
 * the hot path hands records to the encoder without converting them.
 */
import { TYPE } from './codes.js';

/** The record types crdns serves from endpoints, plus SOA which it synthesizes. */
export const SERVED_TYPES = ['A', 'AAAA', 'CNAME', 'DNAME', 'MX', 'SRV', 'NAPTR', 'TXT', 'PTR', 'NS', 'CAA'] as const;
export type ServedType = (typeof SERVED_TYPES)[number];
export type RecordType = ServedType | 'SOA';

export interface MxData { preference: number; exchange: string }
export interface SrvData { priority: number; weight: number; port: number; target: string }
export interface NaptrData {
  order: number;
  preference: number;
  flags: string;
  services: string;
  regexp: string;
  /** Canonical name; '' is the root, written "." in presentation form ("no replacement"). */
  replacement: string;
}
export interface CaaData { flags: number; tag: string; value: string }
export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

/** Rdata by type. Name-valued rdata is a canonical name (lowercase, no trailing dot). */
export interface RDataByType {
  A: string;
  AAAA: string;
  CNAME: string;
  DNAME: string;
  PTR: string;
  NS: string;
  MX: MxData;
  SRV: SrvData;
  NAPTR: NaptrData;
  /** Character-strings, each at most 255 bytes. */
  TXT: Buffer[];
  CAA: CaaData;
  SOA: SoaData;
}

export type RData = RDataByType[RecordType];

/** One record. `name` is canonical: lowercase A-labels, no trailing dot, '' for the root. */
export interface ResourceRecord<T extends RecordType = RecordType> {
  name: string;
  type: T;
  ttl: number;
  data: RDataByType[T];
}

/** Numeric type codes of the record types above, for ordering and for the wire. */
export const TYPE_CODES: Readonly<Record<RecordType, number>> = TYPE;

export function isServedType(t: string): t is ServedType {
  return (SERVED_TYPES as readonly string[]).includes(t);
}
