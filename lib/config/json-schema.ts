import { z } from 'zod';
import { ConfigFileSchema } from './schema';

export const SCHEMA_PATH = 'config/environments.schema.json';

/** The JSON Schema of the environments file (what a user writes: defaults make fields optional). */
export function schemaJson(): string {
  const schema = z.toJSONSchema(ConfigFileSchema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'ses-smtp-cdk environments file' }, null, 2)}\n`;
}
