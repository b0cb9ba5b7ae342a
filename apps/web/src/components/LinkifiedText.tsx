/**
 * Message text with its web links clickable: found by linkifyjs, opened in a new tab with
 * `rel="noopener noreferrer"` (the page gets no handle on Parley, nor the Referer). Only http(s)
 * and mailto links become anchors, so `javascript:` and other schemes stay plain text; no
 * preview is ever fetched (a preview would tell the site who is talking about it).
 */
import { find } from 'linkifyjs';
import type { ReactNode } from 'react';

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

function safeHref(href: string): string | undefined {
  try {
    return SAFE_PROTOCOLS.has(new URL(href).protocol) ? href : undefined;
  } catch {
    return undefined;
  }
}

export function LinkifiedText({ text }: { text: string }) {
  const parts: ReactNode[] = [];
  let at = 0;
  for (const link of find(text)) {
    const href = safeHref(link.href);
    if (!href || link.start < at) continue;
    if (link.start > at) parts.push(text.slice(at, link.start));
    parts.push(
      <a key={link.start} href={href} target="_blank" rel="noopener noreferrer">
        {text.slice(link.start, link.end)}
      </a>,
    );
    at = link.end;
  }
  if (at < text.length) parts.push(text.slice(at));
  return <>{parts}</>;
}
