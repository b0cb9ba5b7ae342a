/// <reference types="vite/client" />
declare const __PARLEY_RELAY_URL__: string;
