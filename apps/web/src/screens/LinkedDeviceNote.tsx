import { useModelState } from '../model/context.tsx';

/**
 * On a linked device: history is not copied between devices (until history transfer exists),
 * so say plainly where older messages are.
 */
export function LinkedDeviceNote() {
  const me = useModelState().me;
  if (!me || me.isPrimary) return null;
  return (
    <p className="muted small linked-device-note" role="note" data-testid="linked-device-note">
      Messages from before this device was linked stay on your other device; this device shows
      messages from the moment it was linked.
    </p>
  );
}
