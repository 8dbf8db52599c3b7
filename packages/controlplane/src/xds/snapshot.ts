// Encoded, versioned resources. A resource's version is a digest of its bytes, so equal
// versions mean equal content across control plane restarts and replicas; a set's version is
// a digest of its members' names and versions.
import { createHash } from 'node:crypto';
import { DiscoveryResponse, type Codec, type ResourceKind } from '@weft/proto';

export interface EncodedResource {
  readonly name: string;
  readonly version: string;
  readonly value: Uint8Array;
}

function digest(parts: Iterable<string | Uint8Array>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('base64url').slice(0, 16);
}

/** An immutable set of resources of one type. */
export class ResourceSet {
  readonly typeUrl: string;
  readonly version: string;
  /** The members' encoded size. */
  readonly bytes: number;
  private readonly members: ReadonlyMap<string, EncodedResource>;
  /** Other names members answer to (for routes: every "domain:port" of the service port). */
  private readonly aliases: ReadonlyMap<string, string>;
  /** The set as a DiscoveryResponse without its nonce, encoded once for every proxy it goes to. */
  private encodedResponse: { readonly controlPlane: string; readonly bytes: Uint8Array } | undefined;

  constructor(typeUrl: string, resources: Iterable<EncodedResource>, aliases: ReadonlyMap<string, string> = new Map()) {
    this.typeUrl = typeUrl;
    this.aliases = aliases;
    this.members = new Map([...resources].sort((a, b) => (a.name < b.name ? -1 : 1)).map((r) => [r.name, r]));
    this.version = digest([...this.members.values()].flatMap((r) => [r.name, '@', r.version, '\n']));
    this.bytes = [...this.members.values()].reduce((sum, r) => sum + r.value.byteLength, 0);
  }

  get size(): number {
    return this.members.size;
  }

  get(name: string): EncodedResource | undefined {
    return this.members.get(name);
  }

  resources(): IterableIterator<EncodedResource> {
    return this.members.values();
  }

  /** This set as a DiscoveryResponse (every field but the nonce) from control plane `controlPlane`. */
  responseEncoding(controlPlane: string): Uint8Array {
    if (this.encodedResponse?.controlPlane !== controlPlane) {
      const resources = [...this.members.values()].map((resource) => ({ name: resource.name, version: resource.version, resource: { type_url: this.typeUrl, value: resource.value } }));
      this.encodedResponse = { controlPlane, bytes: DiscoveryResponse.encode({ versionInfo: this.version, typeUrl: this.typeUrl, controlPlane, resources }).finish() };
    }
    return this.encodedResponse.bytes;
  }

  /** The members named in `names`; all of them when `names` is empty (a wildcard subscription). */
  only(names: readonly string[]): ResourceSet {
    if (names.length === 0) return this;
    const wanted = new Set(names);
    return new ResourceSet(this.typeUrl, [...this.resources()].filter((resource) => wanted.has(resource.name)));
  }

  /**
   * The members an on-demand subscription names, by name or alias; none when `names` is empty.
   * Names that match nothing are simply absent: the response's resource_names tells the proxy so.
   */
  named(names: readonly string[]): ResourceSet {
    const found = new Map<string, EncodedResource>();
    for (const name of names) {
      const resource = this.members.get(this.aliases.get(name) ?? name);
      if (resource) found.set(resource.name, resource);
    }
    return new ResourceSet(this.typeUrl, found.values());
  }
}

/** Encodes messages of one type into a ResourceSet. */
export class ResourceSetBuilder<T> {
  private readonly codec: Codec<T>;
  private readonly encoded: EncodedResource[] = [];
  private readonly aliases = new Map<string, string>();

  constructor(codec: Codec<T>) {
    this.codec = codec;
  }

  /** `aliases`: other names an on-demand subscription may ask for this resource by. */
  add(name: string, message: T, aliases: Iterable<string> = []): this {
    const value = this.codec.encode(message);
    this.encoded.push({ name, version: digest([this.codec.typeUrl, value]), value });
    for (const alias of aliases) this.aliases.set(alias, name);
    return this;
  }

  build(): ResourceSet {
    return new ResourceSet(this.codec.typeUrl, this.encoded, this.aliases);
  }
}

export type ProxySnapshot = Readonly<Record<ResourceKind, ResourceSet>>;
