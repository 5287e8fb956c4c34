// Paging: from a port's query (an opaque cursor and a size preference) to
// the provider's paging, and from its answer straight to the port's page
// (`{ items, nextCursor, hasMore, total }`).

import { ConnectorError } from "./errors.js";

/** A port's page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | undefined;
  hasMore: boolean;
  total: bigint | undefined;
}

/** The page size to ask for: the preference within 1..max, else max. */
export function size(limit: number | undefined, max: number): number {
  return Math.max(1, Math.min(limit ?? max, max));
}

/** The page when the provider hands out the next cursor itself. */
export function cursorPage<T>(items: T[], nextCursor: string | undefined | null, total?: number): Page<T> {
  const next = nextCursor || undefined;
  return { items, nextCursor: next, hasMore: next !== undefined, total: total === undefined ? undefined : BigInt(total) };
}

/** Page-number paging (`?page=N&per_page=M`). */
export class PageNumber {
  readonly number: number;
  readonly size: number;

  constructor(cursor: string | undefined, limit: number | undefined, maxSize: number) {
    if (cursor !== undefined && !/^[1-9][0-9]*$/.test(cursor)) {
      throw ConnectorError.validation(`cursor ${JSON.stringify(cursor)} is not a page number; pass a next-cursor from a previous page`);
    }
    this.number = cursor === undefined ? 1 : Number(cursor);
    this.size = size(limit, maxSize);
  }

  /** The port's page, from the provider's total pages, else its total, else whether this page was full. */
  page<T>(items: T[], total?: number, totalPages?: number): Page<T> {
    const more =
      totalPages !== undefined ? this.number < totalPages : total !== undefined ? this.number * this.size < total : items.length >= this.size;
    return cursorPage(items, more ? String(this.number + 1) : undefined, total);
  }
}

/** Offset paging (`?offset=N&limit=M`). */
export class Offset {
  readonly offset: number;
  readonly limit: number;

  constructor(cursor: string | undefined, limit: number | undefined, maxLimit: number) {
    if (cursor !== undefined && !/^[0-9]+$/.test(cursor)) {
      throw ConnectorError.validation(`cursor ${JSON.stringify(cursor)} is not an offset; pass a next-cursor from a previous page`);
    }
    this.offset = cursor === undefined ? 0 : Number(cursor);
    this.limit = size(limit, maxLimit);
  }

  page<T>(items: T[], total?: number): Page<T> {
    const end = this.offset + this.limit;
    const more = total !== undefined ? end < total : items.length >= this.limit;
    return cursorPage(items, more ? String(end) : undefined, total);
  }
}

/** The `rel="next"` URL of an RFC 8288 `Link` header. */
export function nextLink(header: string | undefined): string | undefined {
  for (const link of (header ?? "").split(",")) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(link);
    if (match && /;\s*rel="?[^";]*\bnext\b/i.test(match[2])) return match[1];
  }
  return undefined;
}

/** The page when the next one is a `Link` header: the cursor is `param` of the next URL. */
export function linkPage<T>(items: T[], linkHeader: string | undefined, param: string): Page<T> {
  const next = nextLink(linkHeader);
  const query = next?.split("?")[1]?.split("#")[0];
  const value = query ? new URLSearchParams(query).get(param) : null;
  return cursorPage(items, value);
}
