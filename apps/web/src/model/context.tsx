import { createContext, useCallback, useContext, useState, useSyncExternalStore } from 'react';
import type { ChatModel, ModelState } from './types.ts';

export const ModelContext = createContext<ChatModel | null>(null);

export function useChatModel(): ChatModel {
  const model = useContext(ModelContext);
  if (!model) throw new Error('useChatModel outside <ModelContext.Provider>');
  return model;
}

/** The current snapshot; re-renders on every change. */
export function useModelState(): ModelState {
  const model = useChatModel();
  return useSyncExternalStore(model.subscribe, model.getState);
}

export interface ActionState {
  busy: boolean;
  error: string | undefined;
}

/**
 * Wraps an async action: tracks whether it runs and keeps its error message for display.
 * `run` resolves to the action's result, or `undefined` when it failed.
 */
export function useAction<A extends unknown[], R>(
  action: (...args: A) => Promise<R>,
): [(...args: A) => Promise<R | undefined>, ActionState, () => void] {
  const [state, setState] = useState<ActionState>({ busy: false, error: undefined });
  const run = useCallback(
    async (...args: A) => {
      setState({ busy: true, error: undefined });
      try {
        const result = await action(...args);
        setState({ busy: false, error: undefined });
        return result;
      } catch (err) {
        setState({ busy: false, error: errorMessage(err) });
        return undefined;
      }
    },
    [action],
  );
  const clear = useCallback(() => setState({ busy: false, error: undefined }), []);
  return [run, state, clear];
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error && err.message) return err.message;
  return 'Something went wrong.';
}
