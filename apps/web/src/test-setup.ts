import 'fake-indexeddb/auto';
import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

afterEach(() => {
  cleanup();
  // The screen route lives in the URL's fragment: each test starts at home.
  if (typeof window !== 'undefined') window.location.hash = '';
});
