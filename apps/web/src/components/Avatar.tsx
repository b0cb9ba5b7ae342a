import { colorIndex, initials } from '../lib/names.ts';

export function Avatar({
  name,
  seed,
  size = 'md',
  group = false,
}: {
  name: string;
  seed: string;
  size?: 'sm' | 'md' | 'lg';
  group?: boolean;
}) {
  return (
    <span className={`avatar avatar--${size} avatar--c${colorIndex(seed)}`} aria-hidden="true">
      {group ? <GroupGlyph /> : initials(name)}
    </span>
  );
}

function GroupGlyph() {
  return (
    <svg viewBox="0 0 24 24" width="55%" height="55%" fill="currentColor">
      <path d="M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8Zm7 0a3 3 0 1 0 0-6 3 3 0 0 0 0 6ZM9 13c-3.3 0-7 1.6-7 4.5V20h14v-2.5C16 14.6 12.3 13 9 13Zm7.5.1c1.7.8 3.5 2.2 3.5 4.4V20h2v-2.4c0-2.5-2.8-4.1-5.5-4.5Z" />
    </svg>
  );
}
