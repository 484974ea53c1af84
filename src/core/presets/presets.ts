// Provider presets: each provider's documented habits as data plus a few hooks (preset.ts), one
// file per provider. To add one: write its file from the provider's documentation (link the pages
// in its doc comment), add it here and to PRESET_NAMES, and give it a stand-in in test/providers/.
import { auth0 } from './auth0.ts';
import { cognito } from './cognito.ts';
import { entra } from './entra.ts';
import { generic } from './generic.ts';
import { github } from './github.ts';
import { google } from './google.ts';
import { keycloak } from './keycloak.ts';
import { okta } from './okta.ts';
import type { PresetName, ProviderPreset } from './preset.ts';

export const PRESETS: Record<PresetName, ProviderPreset> = { generic, auth0, entra, google, okta, keycloak, cognito, github };

