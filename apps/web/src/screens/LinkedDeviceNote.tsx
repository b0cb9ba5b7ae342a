import { useModelState } from '../model/context.tsx';
import { progressText } from '../model/history.ts';

/**
 * On a linked device: whether the history from before it was linked came along (transferring,
 * imported), or, when it was declined or failed (with why), where older messages are.
 */
export function LinkedDeviceNote() {
  const { me, history } = useModelState();
  if (!me || me.isPrimary) return null;
  let text: string;
  if (history?.status === 'transferring') text = progressText(history);
  else if (history?.status === 'imported') {
    text = 'Your message history was transferred from your other device.';
  } else if (history?.status === 'failed') {
    text = `${history.reason}. Older messages stay on your other device; new messages arrive here as usual.`;
  } else {
    text =
      'Message history was not transferred: messages from before this device was linked stay on your other device.';
  }
  return (
    <p
      className="muted small linked-device-note"
      role={history?.status === 'transferring' ? 'status' : 'note'}
      data-testid="linked-device-note"
      data-history={history?.status ?? 'none'}
    >
      {text}
    </p>
  );
}
