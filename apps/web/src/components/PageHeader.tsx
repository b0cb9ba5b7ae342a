import type { ReactNode } from 'react';
import { Icon } from './Icon.tsx';

export function PageHeader({
  title,
  onBack,
  children,
}: {
  title: string;
  onBack: () => void;
  children?: ReactNode;
}) {
  return (
    <header className="page__header">
      <button type="button" className="icon-button" aria-label="Back" onClick={onBack}>
        <Icon name="back" />
      </button>
      <h2>{title}</h2>
      {children}
    </header>
  );
}
