/** Settings of this browser's screen: theme and desktop notifications (lib/preferences.ts). */
import { useState } from 'react';
import {
  setPreferences,
  usePreferences,
  type NotificationChoice,
  type ThemeChoice,
} from '../lib/preferences.ts';

/** A row of radio buttons, one per `[value, label]`. */
function Choices<T extends string>(props: {
  name: string;
  legend: string;
  options: Array<[T, string]>;
  value: T;
  onChoose: (value: T) => void;
}) {
  return (
    <fieldset className="choice-row">
      <legend className="field__label">{props.legend}</legend>
      {props.options.map(([value, label]) => (
        <label key={value} className="choice">
          <input
            type="radio"
            name={props.name}
            value={value}
            checked={props.value === value}
            onChange={() => props.onChoose(value)}
          />
          {label}
        </label>
      ))}
    </fieldset>
  );
}

const THEMES: Array<[ThemeChoice, string]> = [
  ['system', 'As the system'],
  ['light', 'Light'],
  ['dark', 'Dark'],
];

export function AppearanceCard() {
  const { theme } = usePreferences();
  return (
    <section className="card">
      <h3>Appearance</h3>
      <Choices
        name="theme"
        legend="Theme"
        options={THEMES}
        value={theme}
        onChoose={(value) => setPreferences({ theme: value })}
      />
    </section>
  );
}

const NOTIFY: Array<[NotificationChoice, string]> = [
  ['off', 'Off'],
  ['on', 'Sender and message'],
  ['private', 'Only “New message”'],
];

export function NotificationsCard() {
  const { notifications } = usePreferences();
  const supported = typeof Notification !== 'undefined';
  const [permission, setPermission] = useState(supported ? Notification.permission : 'denied');
  const choose = async (value: NotificationChoice) => {
    // The browser asks only in answer to a user action: this click.
    if (value !== 'off' && supported && Notification.permission === 'default') {
      setPermission(await Notification.requestPermission());
    }
    setPreferences({ notifications: value });
  };
  return (
    <section className="card">
      <h3>Notifications</h3>
      <p className="muted">
        Desktop notifications for new messages while Parley is in a background tab. The unread count
        shows in the tab title either way.
      </p>
      {!supported ? (
        <p className="muted">This browser does not offer notifications.</p>
      ) : (
        <Choices
          name="notifications"
          legend="Show"
          options={NOTIFY}
          value={notifications}
          onChoose={(value) => void choose(value)}
        />
      )}
      {supported && notifications !== 'off' && permission === 'denied' && (
        <p className="error-text" role="alert">
          The browser blocks notifications for this site: allow them in its site settings.
        </p>
      )}
    </section>
  );
}
