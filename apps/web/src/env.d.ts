/// <reference types="vite/client" />
/** The relay's URL, fixed at build time; '' means the page's own origin. */
declare const __PARLEY_RELAY_URL__: string;
