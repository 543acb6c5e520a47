import { readFileSync } from 'node:fs';
import { buildSchema as parseSdl, isInterfaceType, isObjectType, type GraphQLField } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildSchema, printedSchema } from '../../schema/index.js';

const here = (path: string) => new URL(path, import.meta.url);

describe('the printed schema', () => {
  it('is up to date (run `npm run schema:print` after changing schema/)', () => {
    expect(readFileSync(here('../../schema/schema.graphql'), 'utf8')).toBe(printedSchema());
  });

  it('contains every type, field and argument of the public contract, with the same types', () => {
    const contract = parseSdl(readFileSync(here('../fixtures/api-contract.graphql'), 'utf8'));
    const ours = buildSchema();
    const missing: string[] = [];
    for (const type of Object.values(contract.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      const mine = ours.getType(type.name);
      if (!mine) {
        missing.push(`type ${type.name}`);
        continue;
      }
      if (!(isObjectType(type) || isInterfaceType(type))) continue;
      if (!(isObjectType(mine) || isInterfaceType(mine))) {
        missing.push(`${type.name} is not an object or interface type`);
        continue;
      }
      for (const iface of isObjectType(type) ? type.getInterfaces() : []) {
        if (isObjectType(mine) && !mine.getInterfaces().some((i) => i.name === iface.name)) {
          missing.push(`${type.name} implements ${iface.name}`);
        }
      }
      const myFields = mine.getFields() as Record<string, GraphQLField<unknown, unknown>>;
      for (const field of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
        const myField = myFields[field.name];
        if (!myField) {
          missing.push(`${type.name}.${field.name}`);
          continue;
        }
        if (String(myField.type) !== String(field.type)) missing.push(`${type.name}.${field.name}: ${myField.type} ≠ ${field.type}`);
        for (const arg of field.args) {
          const myArg = myField.args.find((a) => a.name === arg.name);
          if (!myArg) missing.push(`${type.name}.${field.name}(${arg.name})`);
          else if (String(myArg.type) !== String(arg.type)) missing.push(`${type.name}.${field.name}(${arg.name}): ${myArg.type} ≠ ${arg.type}`);
          else if (arg.defaultValue !== myArg.defaultValue) missing.push(`${type.name}.${field.name}(${arg.name}) default ${myArg.defaultValue} ≠ ${arg.defaultValue}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
