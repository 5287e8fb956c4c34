"""Paging: from a port's query (an opaque cursor and a size preference) to
the provider's paging, and from its answer straight to the port's page type
(``shop_types.OrderPage``, ``payment_types.PaymentPage``, ...)."""

from typing import Any, List, Optional
from urllib.parse import parse_qs, urlsplit

from . import errors


def size(limit: Optional[int], maximum: int) -> int:
    """The page size to ask for: the preference within 1..maximum, else maximum."""
    return max(1, min(limit if limit is not None else maximum, maximum))


class PageNumber:
    """Page-number paging (``?page=N&per_page=M``)."""

    def __init__(self, cursor: Optional[str], limit: Optional[int], max_size: int):
        if cursor is None:
            self.number = 1
        elif cursor.isdigit() and int(cursor) >= 1:
            self.number = int(cursor)
        else:
            raise errors.validation(f"cursor {cursor!r} is not a page number; pass a next-cursor from a previous page")
        self.size = size(limit, max_size)

    def page(self, page_type: Any, items: List[Any], total: Optional[int] = None,
             total_pages: Optional[int] = None) -> Any:
        if total_pages is not None:
            more = self.number < total_pages
        elif total is not None:
            more = self.number * self.size < total
        else:
            more = len(items) >= self.size
        return cursor_page(page_type, items, str(self.number + 1) if more else None, total)


class Offset:
    """Offset paging (``?offset=N&limit=M``)."""

    def __init__(self, cursor: Optional[str], limit: Optional[int], max_limit: int):
        if cursor is not None and not cursor.isdigit():
            raise errors.validation(f"cursor {cursor!r} is not an offset; pass a next-cursor from a previous page")
        self.offset = int(cursor) if cursor is not None else 0
        self.limit = size(limit, max_limit)

    def page(self, page_type: Any, items: List[Any], total: Optional[int] = None) -> Any:
        end = self.offset + self.limit
        more = end < total if total is not None else len(items) >= self.limit
        return cursor_page(page_type, items, str(end) if more else None, total)


def cursor_page(page_type: Any, items: List[Any], next_cursor: Optional[str], total: Optional[int] = None) -> Any:
    """The page when the provider hands out the next cursor itself."""
    next_cursor = next_cursor or None
    return page_type(items, next_cursor, next_cursor is not None, total)


def next_link(header: Optional[str]) -> Optional[str]:
    """The ``rel="next"`` URL of an RFC 8288 ``Link`` header."""
    for link in (header or "").split(","):
        target, _, params = link.strip().partition(";")
        target = target.strip()
        if not (target.startswith("<") and target.endswith(">")):
            continue
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "rel" and "next" in value.strip('"').lower().split():
                return target[1:-1]
    return None


def link_page(page_type: Any, items: List[Any], link_header: Optional[str], param: str) -> Any:
    """The page when the next one is a ``Link`` header: the cursor is the
    value of ``param`` in the next URL (Shopify's ``page_info``)."""
    url = next_link(link_header)
    values = parse_qs(urlsplit(url).query).get(param) if url else None
    return cursor_page(page_type, items, values[0] if values else None)
