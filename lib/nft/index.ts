/**
 * The `nft` group: nftables over NETLINK_NETFILTER. `apply` sends a list
 * of operations as one nfnetlink batch (all or nothing), `list` reads the
 * whole ruleset as typed objects, `flush` empties it.
 */
import type { NetlinkClient } from '../engine/client';
import { dump, request } from '../engine/requests';
import { NetlinkError, invalidType, invalidValue, outOfRange } from '../errors';
import {
  NETLINK_NETFILTER,
  NFT_OBJECT_COUNTER,
  NFT_OBJECT_QUOTA,
  NF_ACCEPT,
  NF_DROP,
  NLM_F_APPEND,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  AF_UNSPEC,
} from '../netlink/constants';
import type { Decoded } from '../netlink/schema';
import type { LinkApi } from '../link';
import {
  CHAIN_TYPES,
  DATA_TYPES,
  FAMILIES,
  VERDICT_DATA_TYPE,
  dataTypeByName,
  familyValue,
  hookValue,
  priorityValue,
  type DataType,
  type NftFamily,
} from './names';
import {
  batchBegin,
  batchEnd,
  commentUserdata,
  decodeChain,
  decodeElements,
  decodeGeneration,
  decodeObject,
  decodeRawRule,
  decodeSet,
  decodeSetElements,
  decodeTable,
  encodeElements,
  messageType,
  nftMessage,
  operationName,
  type RawSet,
  type SetShape,
} from './messages';
import { buildRuleExpressions, decodeRuleExpressions } from './rule';
import type {
  NftApplyOptions,
  NftChain,
  NftElement,
  NftExpression,
  NftObject,
  NftOperation,
  NftRule,
  NftRuleset,
  NftSet,
  NftTable,
} from './types';

export type * from './types';
export { decodeRuleExpressions, buildRuleExpressions } from './rule';

/**
 * A transaction the kernel refused: which operation (its index in the
 * list given to `apply`, and the operation itself) and why. Nothing of
 * the transaction was applied.
 */
export class NftTransactionError extends NetlinkError {
  /** Index of the failing operation in the list; -1 when the batch as a whole was refused. */
  readonly index: number;
  readonly op?: NftOperation;

  constructor(cause: NetlinkError, index: number, op: NftOperation | undefined) {
    super(cause.errno, cause.operation, cause.extack, cause.details);
    this.name = 'NftTransactionError';
    this.index = index;
    if (op !== undefined) this.op = op;
    const what = index >= 0 ? `operation ${index} (${describeOp(op)})` : 'the batch';
    this.message = `nft.apply: ${what} failed: ${cause.message}`;
  }
}

function describeOp(op: NftOperation | undefined): string {
  if (!op) return '';
  const o = op as unknown as Record<string, unknown>;
  const verb = ['add', 'create', 'insert', 'replace', 'delete', 'destroy', 'flush'].find((v) => v in o) ?? '?';
  const parts = [verb, String(o[verb]), String(o.family)];
  for (const k of ['table', 'chain', 'set', 'name', 'handle'])
    if (o[k] !== undefined) parts.push(`${k} ${String(o[k])}`);
  return parts.join(' ');
}

export interface NftContext {
  client(protocol: number): NetlinkClient;
  readonly link: LinkApi;
}

interface Built {
  bytes: Buffer;
  /** The operation it belongs to. */
  index: number;
}

const NAME_MAX = 255;

function nameArgument(v: unknown, argument: string): string {
  if (typeof v !== 'string' || v.length === 0) throw invalidType(argument, 'a non-empty string', v);
  if (Buffer.byteLength(v) > NAME_MAX) throw outOfRange(argument, `at most ${NAME_MAX} bytes long`, v);
  return v;
}

function handleArgument(v: unknown, argument: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > Number.MAX_SAFE_INTEGER) {
    throw invalidType(argument, 'a positive integer handle', v);
  }
  return v;
}

const SET_FLAGS: Record<string, string> = {
  constant: 'constant',
  interval: 'interval',
  timeout: 'timeout',
  dynamic: 'eval',
};

/** Builds the messages of a transaction; interface names are resolved through `ifindex`. */
class TransactionBuilder {
  readonly messages: Built[] = [];
  private nextId = 1;
  /** Sets made in this transaction: their shape, by family/table/name. */
  private readonly newSets = new Map<string, SetShape>();

  constructor(
    private readonly ifindex: (name: string, argument: string) => number,
    private readonly existingSets: Map<string, SetShape>,
  ) {}

  private push(
    index: number,
    op: string,
    flags: number,
    family: number,
    set: string | null,
    value: Record<string, unknown>,
  ) {
    this.messages.push({ index, bytes: nftMessage(op, flags, family, set, value) });
  }

  shapeOf(family: NftFamily, table: string, set: string): SetShape | undefined {
    const key = `${family}/${table}/${set}`;
    return this.newSets.get(key) ?? this.existingSets.get(key);
  }

  add(op: NftOperation, index: number): void {
    const arg = `ops[${index}]`;
    if (typeof op !== 'object' || op === null) throw invalidType(arg, 'an operation object', op);
    const o = op as unknown as Record<string, unknown>;
    const verbs = ['add', 'create', 'insert', 'replace', 'delete', 'destroy', 'flush'].filter((v) => v in o);
    if (verbs.length !== 1) {
      throw invalidValue(
        arg,
        op,
        "must have exactly one of add, create, insert, replace, delete, destroy, flush (e.g. { add: 'table', ... })",
      );
    }
    const verb = verbs[0];
    const object = o[verb];
    const fam = familyValue(o.family, `${arg}.family`);
    const family = o.family as NftFamily;
    const key = `${verb} ${String(object)}`;
    switch (key) {
      case 'add table':
      case 'create table': {
        const name = nameArgument(o.name, `${arg}.name`);
        const value: Record<string, unknown> = { name, flags: o.dormant === true ? ['dormant'] : 0 };
        this.push(index, 'newtable', NLM_F_CREATE | (verb === 'create' ? NLM_F_EXCL : 0), fam, 'table-attrs', value);
        return;
      }
      case 'delete table':
      case 'destroy table':
        this.push(index, `${verb === 'delete' ? 'del' : verb}table`, 0, fam, 'table-attrs', {
          name: nameArgument(o.name, `${arg}.name`),
        });
        return;
      case 'flush table':
        this.push(index, 'delrule', 0, fam, 'rule-attrs', { table: nameArgument(o.name, `${arg}.name`) });
        return;
      case 'add chain':
      case 'create chain':
        this.push(
          index,
          'newchain',
          NLM_F_CREATE | (verb === 'create' ? NLM_F_EXCL : 0),
          fam,
          'chain-attrs',
          this.chain(o, family, arg),
        );
        return;
      case 'delete chain':
      case 'destroy chain': {
        const value: Record<string, unknown> = { table: nameArgument(o.table, `${arg}.table`) };
        if (o.handle !== undefined && verb === 'delete') value.handle = handleArgument(o.handle, `${arg}.handle`);
        else value.name = nameArgument(o.name, `${arg}.name`);
        this.push(index, `${verb === 'delete' ? 'del' : verb}chain`, 0, fam, 'chain-attrs', value);
        return;
      }
      case 'flush chain':
        this.push(index, 'delrule', 0, fam, 'rule-attrs', {
          table: nameArgument(o.table, `${arg}.table`),
          chain: nameArgument(o.name, `${arg}.name`),
        });
        return;
      case 'add rule':
      case 'insert rule':
      case 'replace rule':
        this.rule(o, verb, family, fam, index, arg);
        return;
      case 'delete rule':
      case 'destroy rule':
        this.push(index, `${verb === 'delete' ? 'del' : verb}rule`, 0, fam, 'rule-attrs', {
          table: nameArgument(o.table, `${arg}.table`),
          chain: nameArgument(o.chain, `${arg}.chain`),
          handle: handleArgument(o.handle, `${arg}.handle`),
        });
        return;
      case 'add set':
      case 'create set':
      case 'add map':
      case 'create map':
        this.set(o, verb, object === 'map', family, fam, index, arg);
        return;
      case 'delete set':
      case 'delete map':
      case 'destroy set':
      case 'destroy map':
        this.push(index, `${verb === 'delete' ? 'del' : verb}set`, 0, fam, 'set-attrs', {
          table: nameArgument(o.table, `${arg}.table`),
          name: nameArgument(o.name, `${arg}.name`),
        });
        return;
      case 'flush set':
      case 'flush map':
        this.push(index, 'delsetelem', 0, fam, 'setelem-list-attrs', {
          table: nameArgument(o.table, `${arg}.table`),
          set: nameArgument(o.name, `${arg}.name`),
        });
        return;
      case 'add element':
      case 'delete element': {
        const table = nameArgument(o.table, `${arg}.table`);
        const set = nameArgument(o.set, `${arg}.set`);
        const shape = this.shapeOf(family, table, set);
        if (!shape)
          throw invalidValue(`${arg}.set`, set, `names no set of type the library knows in ${family} table ${table}`);
        const elements = encodeElements(shape, o.elements as NftElement[], `${arg}.elements`);
        if (elements.length === 0) throw invalidValue(`${arg}.elements`, o.elements, 'must not be empty');
        this.push(
          index,
          verb === 'add' ? 'newsetelem' : 'delsetelem',
          verb === 'add' ? NLM_F_CREATE : 0,
          fam,
          'setelem-list-attrs',
          {
            table,
            set,
            elements: { elem: elements },
          },
        );
        return;
      }
      case 'add counter':
      case 'add quota':
      case 'create counter':
      case 'create quota':
        this.object(o, object as 'counter' | 'quota', verb, fam, index, arg);
        return;
      case 'delete counter':
      case 'delete quota':
        this.push(index, 'delobj', 0, fam, 'obj-attrs', {
          table: nameArgument(o.table, `${arg}.table`),
          name: nameArgument(o.name, `${arg}.name`),
          type: object === 'counter' ? NFT_OBJECT_COUNTER : NFT_OBJECT_QUOTA,
        });
        return;
      default:
        throw invalidValue(`${arg}.${verb}`, object, `is not something nft.apply can ${verb}`);
    }
  }

  private chain(o: Record<string, unknown>, family: NftFamily, arg: string): Record<string, unknown> {
    const value: Record<string, unknown> = {
      table: nameArgument(o.table, `${arg}.table`),
      name: nameArgument(o.name, `${arg}.name`),
    };
    const base = o.hook !== undefined || o.type !== undefined || o.priority !== undefined;
    if (!base) {
      for (const k of ['policy', 'device', 'devices']) {
        if (o[k] !== undefined)
          throw invalidValue(`${arg}.${k}`, o[k], 'belongs to a base chain: give type, hook and priority too');
      }
      return value;
    }
    if (o.hook === undefined) throw invalidType(`${arg}.hook`, 'a hook name for a base chain', o.hook);
    const hook: Record<string, unknown> = {
      num: hookValue(family, o.hook, `${arg}.hook`),
      priority: priorityValue(family, o.priority ?? 0, `${arg}.priority`),
    };
    const type = o.type ?? 'filter';
    if (!(CHAIN_TYPES as readonly unknown[]).includes(type)) {
      throw invalidValue(`${arg}.type`, type, `must be one of ${CHAIN_TYPES.join(', ')}`);
    }
    const needsDevice = family === 'netdev' || (family === 'inet' && o.hook === 'ingress');
    if (o.device !== undefined) hook.dev = nameArgument(o.device, `${arg}.device`);
    if (o.devices !== undefined) {
      if (!Array.isArray(o.devices)) throw invalidType(`${arg}.devices`, 'an array of interface names', o.devices);
      hook.devs = { name: o.devices.map((d, i) => nameArgument(d, `${arg}.devices[${i}]`)) };
    }
    if (needsDevice && hook.dev === undefined && hook.devs === undefined) {
      throw invalidType(
        `${arg}.device`,
        `an interface name (a ${family} ${String(o.hook)} chain hooks a device)`,
        o.device,
      );
    }
    value.hook = hook;
    if (o.policy !== undefined) {
      if (o.policy !== 'accept' && o.policy !== 'drop')
        throw invalidValue(`${arg}.policy`, o.policy, "must be 'accept' or 'drop'");
      value.policy = o.policy === 'accept' ? NF_ACCEPT : NF_DROP;
    }
    value.type = type;
    return value;
  }

  private rule(
    o: Record<string, unknown>,
    verb: string,
    family: NftFamily,
    fam: number,
    index: number,
    arg: string,
  ): void {
    const table = nameArgument(o.table, `${arg}.table`);
    const chain = nameArgument(o.chain, `${arg}.chain`);
    let exprs: NftExpression[];
    if (o.expressions !== undefined) {
      if (!Array.isArray(o.expressions))
        throw invalidType(`${arg}.expressions`, 'an array of { name, data? }', o.expressions);
      exprs = o.expressions as NftExpression[];
    } else {
      exprs = buildRuleExpressions(
        o,
        {
          family,
          ifindex: this.ifindex,
          anonymousSet: (type, elements, interval, argument) =>
            this.anonymousSet(fam, table, type, elements, interval, index, argument),
        },
        arg,
      );
    }
    const value: Record<string, unknown> = { table, chain };
    let flags = 0;
    if (verb === 'replace') {
      value.handle = handleArgument(o.handle, `${arg}.handle`);
      flags = NLM_F_REPLACE;
    } else {
      flags = NLM_F_CREATE | (verb === 'add' ? NLM_F_APPEND : 0);
      if (o.position !== undefined) value.position = handleArgument(o.position, `${arg}.position`);
    }
    value.expressions = { elem: exprs };
    if (o.comment !== undefined) value.userdata = commentUserdata(o.comment as string, `${arg}.comment`);
    this.push(index, 'newrule', flags, fam, 'rule-attrs', value);
  }

  private anonymousSet(
    fam: number,
    table: string,
    type: DataType,
    elements: NftElement[],
    interval: boolean,
    index: number,
    argument: string,
  ): { name: string; id: number } {
    const id = this.nextId++;
    const name = '__set%d';
    const shape: SetShape = { key: type, interval };
    const encoded = encodeElements(shape, elements, argument);
    this.push(index, 'newset', NLM_F_CREATE, fam, 'set-attrs', {
      table,
      name,
      flags: ['anonymous', 'constant', ...(interval ? ['interval'] : [])],
      keyType: type.id,
      keyLen: type.len,
      id,
      desc: { size: encoded.length },
    });
    this.push(index, 'newsetelem', NLM_F_CREATE, fam, 'setelem-list-attrs', {
      table,
      set: name,
      setId: id,
      elements: { elem: encoded },
    });
    return { name, id };
  }

  private set(
    o: Record<string, unknown>,
    verb: string,
    isMap: boolean,
    family: NftFamily,
    fam: number,
    index: number,
    arg: string,
  ): void {
    const table = nameArgument(o.table, `${arg}.table`);
    const name = nameArgument(o.name, `${arg}.name`);
    const key = dataTypeByName(o.type, `${arg}.type`);
    const flags: string[] = [];
    if (o.flags !== undefined) {
      if (!Array.isArray(o.flags)) throw invalidType(`${arg}.flags`, 'an array of flag names', o.flags);
      for (const f of o.flags) {
        const n = SET_FLAGS[f as string];
        if (!n) throw invalidValue(`${arg}.flags`, f, `must hold ${Object.keys(SET_FLAGS).join(', ')}`);
        if (!flags.includes(n)) flags.push(n);
      }
    }
    const value: Record<string, unknown> = { table, name, keyType: key.id, keyLen: key.len };
    let data: DataType | 'verdict' | undefined;
    if (isMap || o.map !== undefined) {
      if (o.map === 'verdict') {
        data = 'verdict';
        value.dataType = VERDICT_DATA_TYPE;
      } else {
        data = dataTypeByName(o.map, `${arg}.map`);
        value.dataType = data.id;
        value.dataLen = data.len;
      }
      flags.push('map');
    }
    if (o.timeout !== undefined) {
      if (typeof o.timeout !== 'number' || !(o.timeout > 0))
        throw invalidValue(`${arg}.timeout`, o.timeout, 'must be a positive number of seconds');
      value.timeout = Math.round(o.timeout * 1000);
      if (!flags.includes('timeout')) flags.push('timeout');
    }
    value.flags = flags;
    value.id = this.nextId++;
    if (o.size !== undefined) {
      if (typeof o.size !== 'number' || !Number.isInteger(o.size) || o.size <= 0 || o.size > 0xffffffff) {
        throw outOfRange(`${arg}.size`, '> 0 and <= 4294967295', o.size);
      }
      value.desc = { size: o.size };
    }
    if (o.counter === true) value.expr = [{ name: 'counter' }];
    const shape: SetShape = { key, data, interval: flags.includes('interval') };
    this.push(index, 'newset', NLM_F_CREATE | (verb === 'create' ? NLM_F_EXCL : 0), fam, 'set-attrs', value);
    this.newSets.set(`${family}/${table}/${name}`, shape);
    if (o.elements !== undefined) {
      const elements = encodeElements(shape, o.elements as NftElement[], `${arg}.elements`);
      if (elements.length) {
        this.push(index, 'newsetelem', NLM_F_CREATE, fam, 'setelem-list-attrs', {
          table,
          set: name,
          elements: { elem: elements },
        });
      }
    }
  }

  private object(
    o: Record<string, unknown>,
    type: 'counter' | 'quota',
    verb: string,
    fam: number,
    index: number,
    arg: string,
  ): void {
    const u64 = (v: unknown, a: string) => {
      if (v === undefined) return 0;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) {
        throw outOfRange(a, '>= 0 and <= 2^53-1', v);
      }
      return v;
    };
    const value: Record<string, unknown> = {
      table: nameArgument(o.table, `${arg}.table`),
      name: nameArgument(o.name, `${arg}.name`),
      type,
    };
    if (type === 'counter')
      value.data = { bytes: u64(o.bytes, `${arg}.bytes`), packets: u64(o.packets, `${arg}.packets`) };
    else {
      if (o.bytes === undefined) throw invalidType(`${arg}.bytes`, 'the quota in bytes', o.bytes);
      value.data = {
        bytes: u64(o.bytes, `${arg}.bytes`),
        flags: o.over === true ? ['invert'] : 0,
        consumed: u64(o.used, `${arg}.used`),
      };
    }
    this.push(index, 'newobj', NLM_F_CREATE | (verb === 'create' ? NLM_F_EXCL : 0), fam, 'obj-attrs', value);
  }
}

/** Interface names a list of operations refers to (match.iif / match.oif), to resolve before building. */
function interfaceNames(ops: NftOperation[]): Set<string> {
  const names = new Set<string>();
  for (const op of ops) {
    const m = (op as { match?: { iif?: unknown; oif?: unknown } } | null)?.match;
    if (typeof m !== 'object' || m === null) continue;
    if (typeof m.iif === 'string') names.add(m.iif);
    if (typeof m.oif === 'string') names.add(m.oif);
  }
  return names;
}

/** Element operations on sets the transaction does not make: their shapes must be read first. */
function setsToRead(ops: NftOperation[]): { family: NftFamily; table: string; set: string }[] {
  const made = new Set<string>();
  const out: { family: NftFamily; table: string; set: string }[] = [];
  for (const op of ops) {
    const o = op as unknown as Record<string, unknown>;
    if (o.add === 'set' || o.add === 'map' || o.create === 'set' || o.create === 'map')
      made.add(`${String(o.family)}/${String(o.table)}/${String(o.name)}`);
    if (
      (o.add === 'element' || o.delete === 'element') &&
      !made.has(`${String(o.family)}/${String(o.table)}/${String(o.set)}`)
    ) {
      out.push({ family: o.family as NftFamily, table: o.table as string, set: o.set as string });
    }
  }
  return out;
}

/**
 * The `nft` group.
 *
 * @example
 * await h.nft.apply([
 *   { add: 'table', family: 'inet', name: 'fw' },
 *   { add: 'chain', family: 'inet', table: 'fw', name: 'input', type: 'filter', hook: 'input', priority: 0, policy: 'accept' },
 *   { add: 'rule', family: 'inet', table: 'fw', chain: 'input', match: { l4proto: 'tcp', dport: 22 }, verdict: 'accept' },
 * ])
 */
export class NftApi {
  constructor(private readonly ctx: () => NftContext) {}

  private client(): NetlinkClient {
    return this.ctx().client(NETLINK_NETFILTER);
  }

  /**
   * Applies operations as one transaction: every one of them, or (on any
   * error) none. A refusal rejects with NftTransactionError (a
   * NetlinkError) naming the failing operation's index and the kernel's
   * text. Bad input throws TypeError/RangeError before anything is sent.
   *
   * @example
   * await nl.nft.apply([
   *   { add: 'table', family: 'inet', name: 'fw' },
   *   { add: 'chain', family: 'inet', table: 'fw', name: 'input', type: 'filter', hook: 'input', priority: 0, policy: 'accept' },
   *   { add: 'rule', family: 'inet', table: 'fw', chain: 'input',
   *     match: { l4proto: 'tcp', dport: 7777, saddr: '10.0.0.0/8' }, counter: true, verdict: 'drop' },
   * ])
   */
  async apply(ops: NftOperation[], options: NftApplyOptions = {}): Promise<void> {
    if (!Array.isArray(ops)) throw invalidType('ops', 'an array of operations', ops);
    if (typeof options !== 'object' || options === null) throw invalidType('options', 'an object', options);
    if (options.generation !== undefined) {
      const g = options.generation;
      if (typeof g !== 'number' || !Number.isInteger(g) || g < 0 || g > 0xffffffff) {
        throw outOfRange('options.generation', '>= 0 and <= 4294967295', g);
      }
    }
    // Validate everything first, with placeholder interface indexes and set shapes.
    const names = interfaceNames(ops);
    const reads = setsToRead(ops);
    const placeholderShapes = new Map<string, SetShape>();
    const validate = new TransactionBuilder(() => 1, placeholderShapes);
    ops.forEach((op, i) => {
      const o = op as unknown as Record<string, unknown>;
      if (typeof o === 'object' && o !== null && (o.add === 'element' || o.delete === 'element')) {
        // The shape is unknown until read; check the rest now.
        familyValue(o.family, `ops[${i}].family`);
        nameArgument(o.table, `ops[${i}].table`);
        nameArgument(o.set, `ops[${i}].set`);
        if (!Array.isArray(o.elements)) throw invalidType(`ops[${i}].elements`, 'an array of elements', o.elements);
        if (reads.some((r) => r.family === o.family && r.table === o.table && r.set === o.set)) return;
      }
      validate.add(op, i);
    });
    if (ops.length === 0) return;

    const indexes = new Map<string, number>();
    for (const name of names) indexes.set(name, await this.ctx().link.indexOf(name));
    const shapes = new Map<string, SetShape>();
    for (const r of reads) {
      const set = await this.readSet(r.family, r.table, r.set);
      if (set?.shape) shapes.set(`${r.family}/${r.table}/${r.set}`, set.shape);
    }
    const builder = new TransactionBuilder((name) => indexes.get(name)!, shapes);
    ops.forEach((op, i) => builder.add(op, i));

    const messages = [batchBegin(options.generation), ...builder.messages.map((m) => m.bytes), batchEnd()];
    const outcomes = await this.client().sendBatch(messages, {
      signal: options.signal,
      operations: messages.map((m) => operationName(m.readUInt16LE(4))),
    });
    const failed = outcomes.findIndex((o, i) => o.error && i > 0 && i < messages.length - 1);
    if (failed !== -1) {
      const index = builder.messages[failed - 1].index;
      throw new NftTransactionError(outcomes[failed].error!, index, ops[index]);
    }
    const batchError = outcomes.find((o) => o.error)?.error;
    if (batchError) throw new NftTransactionError(batchError, -1, undefined);
    // Every message asked for an ACK; one missing means the batch did not run.
    const unanswered = outcomes.findIndex((o, i) => !o.answered && i > 0 && i < messages.length - 1);
    if (unanswered !== -1) {
      throw new Error(
        `nft.apply: the kernel did not answer operation ${builder.messages[unanswered - 1].index}; the batch was not applied`,
      );
    }
  }

  /**
   * The ruleset generation: it changes with every committed transaction.
   * Pass it to `apply` to apply only if nothing changed in between.
   *
   * @example
   * const generation = await nl.nft.generation()
   * await nl.nft.apply(ops, { generation })
   */
  async generation(options: { signal?: AbortSignal } = {}): Promise<number> {
    const [g] = await request(this.client(), nftMessage('getgen', 0, AF_UNSPEC, null, {}), decodeGeneration, {
      signal: options.signal,
      operation: 'NFT_MSG_GETGEN',
    });
    return g;
  }

  private async readSet(family: NftFamily, table: string, name: string): Promise<RawSet | undefined> {
    try {
      const sets = await request(
        this.client(),
        nftMessage('getset', 0, FAMILIES[family], 'set-attrs', { table, name }),
        decodeSet,
        { operation: 'NFT_MSG_GETSET' },
      );
      return sets[0];
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /**
   * The whole ruleset as typed objects, read at one generation (retried if
   * a transaction commits while reading). Optionally one family or table.
   *
   * @example
   * const { tables, chains, rules, sets } = await nl.nft.list()
   */
  async list(
    filter: { family?: NftFamily; table?: string } = {},
    options: { signal?: AbortSignal } = {},
  ): Promise<NftRuleset> {
    if (typeof filter !== 'object' || filter === null) throw invalidType('filter', 'an object', filter);
    const fam = filter.family === undefined ? AF_UNSPEC : familyValue(filter.family, 'filter.family');
    if (filter.table !== undefined) nameArgument(filter.table, 'filter.table');
    for (let attempt = 0; ; attempt++) {
      const before = await this.generation(options);
      const ruleset = await this.read(fam, filter.table, options.signal);
      const after = await this.generation(options);
      if (before === after || attempt >= 5) return { ...ruleset, generation: after };
    }
  }

  private async read(
    fam: number,
    table: string | undefined,
    signal?: AbortSignal,
  ): Promise<Omit<NftRuleset, 'generation'>> {
    const client = this.client();
    const get = <T>(op: string, set: string | null, decode: (b: Buffer, o: number, l: number) => T | undefined) =>
      dump(client, nftMessage(op, NLM_F_DUMP, fam, set, table === undefined || set === null ? {} : { table }), decode, {
        signal,
        operation: operationName(messageType(op)),
      });
    const inTable = <T extends { table: string }>(x: T) => (table === undefined || x.table === table ? x : undefined);
    const tables = (await get('gettable', null, decodeTable)).filter((t) => table === undefined || t.name === table);
    const chains = await get('getchain', null, (b, o, l) => inTable(decodeChain(b, o, l)));
    const rawSets = await get('getset', 'set-attrs', (b, o, l) => inTable(decodeSet(b, o, l)));
    const objects = (await get('getobj', null, (b, o, l) => {
      const obj = decodeObject(b, o, l);
      return obj && inTable(obj);
    })) as NftObject[];
    const rawRules = await get('getrule', 'rule-attrs', (b, o, l) => inTable(decodeRawRule(b, o, l)));

    const elementsOf = new Map<string, NftElement[]>();
    const sets: NftSet[] = [];
    for (const s of rawSets) {
      const raw = await dump(
        client,
        nftMessage('getsetelem', NLM_F_DUMP, FAMILIES[s.family], 'setelem-list-attrs', { table: s.table, set: s.name }),
        decodeSetElements,
        { signal, operation: 'NFT_MSG_GETSETELEM' },
      );
      const elements = decodeElements(s.shape, raw.flat() as Decoded[]);
      elementsOf.set(`${s.family}/${s.table}/${s.name}`, elements);
      if (!s.anonymous) {
        const { anonymous: _a, shape: _s, ...rest } = s;
        sets.push({ ...rest, elements });
      }
    }

    const rules: NftRule[] = rawRules.map((r) => {
      const typed = decodeRuleExpressions(r.expressions, {
        family: r.family,
        anonymousSet: (name) => elementsOf.get(`${r.family}/${r.table}/${name}`),
      });
      const base = { family: r.family, table: r.table, chain: r.chain, handle: r.handle };
      const rule: NftRule = typed ? { ...base, ...typed } : { ...base, expressions: r.expressions };
      if (r.comment !== undefined) rule.comment = r.comment;
      return rule;
    });
    await this.nameInterfaces(rules);
    return { tables, chains, rules, sets, objects };
  }

  /** Shows `iif`/`oif` indexes as interface names where the interface exists. */
  private async nameInterfaces(rules: NftRule[]): Promise<void> {
    if (!rules.some((r) => typeof r.match?.iif === 'number' || typeof r.match?.oif === 'number')) return;
    const links = await this.ctx().link.list();
    const names = new Map(links.map((l) => [l.index, l.name]));
    for (const r of rules) {
      const m = r.match!;
      if (typeof m?.iif === 'number' && names.has(m.iif)) m.iif = names.get(m.iif);
      if (typeof m?.oif === 'number' && names.has(m.oif)) m.oif = names.get(m.oif);
    }
  }

  /**
   * Removes every table (and so every chain, rule, set and object), of
   * one family or all of them, in one transaction: `nft flush ruleset`.
   *
   * @example
   * await h.nft.flush()
   */
  async flush(options: { family?: NftFamily; signal?: AbortSignal } = {}): Promise<void> {
    if (typeof options !== 'object' || options === null) throw invalidType('options', 'an object', options);
    const fam = options.family === undefined ? AF_UNSPEC : familyValue(options.family, 'options.family');
    const messages = [batchBegin(), nftMessage('deltable', 0, fam, null, {}), batchEnd()];
    const outcomes = await this.client().sendBatch(messages, {
      signal: options.signal,
      operations: messages.map((m) => operationName(m.readUInt16LE(4))),
    });
    const error = outcomes.find((o) => o.error)?.error;
    if (error) throw error;
  }
}

export type { NftTable, NftChain, NftRule, NftSet, NftObject, NftRuleset, DataType };
export { DATA_TYPES };
