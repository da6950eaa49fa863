// Strict strings at the server's door: every string field of a request must be valid UTF-8,
// checked on the raw bytes, because the protobuf decoder replaces invalid sequences without
// a word, and two tenant ids that differ only there would become one tenant.

import { isUtf8 } from 'node:buffer';
import type { PackageDefinition } from '@grpc/proto-loader';

/** What the check needs of a message type: its string fields and its message fields, by number. */
interface MessagePlan {
  /** By field number; arrays, since a lookup per field is the check's hottest step. */
  readonly strings: Array<string | undefined>;
  readonly messages: Array<{ readonly name: string; readonly plan: MessagePlan } | undefined>;
  /** A map's entry: its key (field 1) is a name a JavaScript object must be able to keep. */
  readonly isMapEntry: boolean;
}

/**
 * A function that finds the first problem in an encoded message of `typeName`: a string
 * field that is not valid UTF-8, a map key `__proto__` (the decoder would drop it silently)
 * or bytes that are not protobuf at all. Undefined when there is none.
 */
export function stringChecker(definition: PackageDefinition, typeName: string): (bytes: Uint8Array) => string | undefined {
  const plan = planFor(definition, typeName, new Map());
  return (bytes) => problemIn(bytes, 0, bytes.byteLength, plan);
}

const PROTO_KEY = Buffer.from('__proto__');

function problemIn(bytes: Uint8Array, start: number, end: number, plan: MessagePlan): string | undefined {
  const reader = { offset: start };
  while (reader.offset < end) {
    const tag = readVarint(bytes, reader, end);
    if (tag === undefined) return 'a field tag is cut short';
    const number = Math.floor(tag / 8);
    switch (tag % 8) {
      case 0:
        if (readVarint(bytes, reader, end) === undefined) return 'a number is cut short';
        break;
      case 1:
        reader.offset += 8;
        break;
      case 5:
        reader.offset += 4;
        break;
      case 2: {
        const length = readVarint(bytes, reader, end);
        if (length === undefined || reader.offset + length > end) return 'a field is longer than the message';
        const from = reader.offset;
        reader.offset += length;
        const stringField = plan.strings[number];
        if (stringField !== undefined) {
          if (!isValidUtf8(bytes, from, from + length)) return `${stringField} is not valid UTF-8`;
          if (plan.isMapEntry && number === 1 && PROTO_KEY.equals(bytes.subarray(from, from + length))) return 'the name __proto__ is not allowed';
          break;
        }
        const messageField = plan.messages[number];
        const inner = messageField === undefined ? undefined : problemIn(bytes, from, from + length, messageField.plan);
        if (inner !== undefined) return `${messageField?.name}: ${inner}`;
        break;
      }
      default:
        return `wire type ${tag % 8} is not used by this protocol`;
    }
  }
  return reader.offset === end ? undefined : 'a field is longer than the message';
}

/**
 * Most text on the wire is ASCII: a loop over its bytes settles it without a view to make
 * or a native call, which cost more than the loop for the short strings of a request.
 */
function isValidUtf8(bytes: Uint8Array, start: number, end: number): boolean {
  for (let at = start; at < end; at++) {
    if ((bytes[at] ?? 0) >= 0x80) return isUtf8(bytes.subarray(at, end));
  }
  return true;
}

/** A base-128 varint, or undefined when the bytes end first or it runs past 64 bits. */
function readVarint(bytes: Uint8Array, reader: { offset: number }, end: number): number | undefined {
  let value = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (reader.offset >= end) return undefined;
    const byte = bytes[reader.offset++] ?? 0;
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return value;
  }
  return undefined;
}

// ---- the plan, read once from the loaded descriptors ---------------------------------------

interface FieldDescriptor {
  readonly name: string;
  readonly number: number;
  readonly type: string;
  readonly typeName: string;
}

interface MessageDescriptor {
  readonly fields: readonly FieldDescriptor[];
  readonly nested: ReadonlyMap<string, MessageDescriptor>;
  readonly isMapEntry: boolean;
}

function planFor(definition: PackageDefinition, fullName: string, done: Map<string, MessagePlan>): MessagePlan {
  const descriptor = messageDescriptor(typeOf(definition, fullName), fullName);
  return planOf(definition, fullName, descriptor, done);
}

function planOf(definition: PackageDefinition, fullName: string, descriptor: MessageDescriptor, done: Map<string, MessagePlan>): MessagePlan {
  const known = done.get(fullName);
  if (known !== undefined) return known;
  const plan: MessagePlan = { strings: [], messages: [], isMapEntry: descriptor.isMapEntry };
  done.set(fullName, plan);
  const packageName = fullName.slice(0, fullName.lastIndexOf('.'));
  for (const field of descriptor.fields) {
    if (field.type === 'TYPE_STRING') plan.strings[field.number] = field.name;
    if (field.type !== 'TYPE_MESSAGE') continue;
    const nested = descriptor.nested.get(field.typeName);
    const inner = nested === undefined
      ? planFor(definition, `${packageName}.${field.typeName}`, done)
      : planOf(definition, `${fullName}.${field.typeName}`, nested, done);
    plan.messages[field.number] = { name: field.name, plan: inner };
  }
  return plan;
}

function typeOf(definition: PackageDefinition, fullName: string): object {
  const entry = definition[fullName];
  if (entry === undefined || !('format' in entry) || entry.format !== 'Protocol Buffer 3 DescriptorProto') {
    throw new Error(`${fullName} is not a message in the loaded protos`);
  }
  return entry.type;
}

function messageDescriptor(value: unknown, where: string): MessageDescriptor {
  const record = asRecord(value, where);
  const fields = asArray(record['field'], `${where}.field`).map((field, index): FieldDescriptor => {
    const entry = asRecord(field, `${where}.field[${index}]`);
    return {
      name: String(entry['name']),
      number: Number(entry['number']),
      type: String(entry['type']),
      typeName: String(entry['typeName'] ?? ''),
    };
  });
  const nested = new Map<string, MessageDescriptor>();
  for (const [index, inner] of asArray(record['nestedType'] ?? [], `${where}.nestedType`).entries()) {
    const name = String(asRecord(inner, `${where}.nestedType[${index}]`)['name']);
    nested.set(name, messageDescriptor(inner, `${where}.${name}`));
  }
  const options = record['options'];
  const isMapEntry = typeof options === 'object' && options !== null && 'mapEntry' in options && options.mapEntry === true;
  return { fields, nested, isMapEntry };
}

function asRecord(value: unknown, where: string): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where}: not a descriptor`);
  return Object.fromEntries(Object.entries(value));
}

function asArray(value: unknown, where: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new Error(`${where}: not a list`);
  return value;
}
