// The .abit grammar as a chevrotain CstParser. Error recovery is on, so a bad statement yields
// an error entry in `parser.errors` and parsing continues; the parser never throws on user
// input. Semantics (names, types, shapes) are checked later in to-ir.ts, not here.

import './node-compat.ts';
import { CstParser, type CstNode, type IToken } from 'chevrotain';
import * as T from './tokens.ts';

export class AbitParser extends CstParser {
  constructor() {
    super(T.ALL_TOKENS, { recoveryEnabled: true, maxLookahead: 3, nodeLocationTracking: 'full' });
    this.performSelfAnalysis();
  }

  program = this.RULE('program', () => {
    this.MANY(() => this.SUBRULE(this.topItem));
  });

  topItem = this.RULE('topItem', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.importDecl) },
      {
        ALT: () => {
          this.MANY(() => this.SUBRULE(this.annotation));
          this.OR2([
            { ALT: () => this.SUBRULE(this.modelDecl) },
            { ALT: () => this.SUBRULE(this.blockDecl) },
          ]);
        },
      },
    ]);
  });

  importDecl = this.RULE('importDecl', () => {
    this.CONSUME(T.Import);
    this.CONSUME(T.StringLit);
  });

  // model NAME (params)? (inputs) (-> (outputs))? { body }
  modelDecl = this.RULE('modelDecl', () => {
    this.CONSUME(T.Model);
    this.CONSUME(T.Ident);
    this.SUBRULE(this.declGroup);
    this.OPTION(() => this.SUBRULE2(this.declGroup));
    this.OPTION2(() => {
      this.CONSUME(T.Arrow);
      this.CONSUME(T.LParen);
      this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME2(T.Ident) });
      this.CONSUME(T.RParen);
    });
    this.SUBRULE(this.body);
  });

  blockDecl = this.RULE('blockDecl', () => {
    this.CONSUME(T.Block);
    this.CONSUME(T.Ident);
    this.SUBRULE(this.declGroup);
    this.OPTION(() => this.SUBRULE2(this.declGroup));
    this.SUBRULE(this.body);
  });

  declGroup = this.RULE('declGroup', () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.declItem) });
    this.CONSUME(T.RParen);
  });

  // `name`, `name = default` (a parameter) or `name: f32[dims]` (a typed input)
  declItem = this.RULE('declItem', () => {
    this.CONSUME(T.Ident);
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.SUBRULE(this.typeExpr);
    });
    this.OPTION2(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expr);
    });
  });

  typeExpr = this.RULE('typeExpr', () => {
    this.CONSUME(T.Ident);
    this.SUBRULE(this.listExpr);
  });

  body = this.RULE('body', () => {
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.statement));
    this.CONSUME(T.RBrace);
  });

  statement = this.RULE('statement', () => {
    this.MANY(() => this.SUBRULE(this.annotation));
    this.OR([
      { ALT: () => this.SUBRULE(this.letStmt) },
      { ALT: () => this.SUBRULE(this.assignStmt) },
      { ALT: () => this.SUBRULE(this.paramStmt) },
      { ALT: () => this.SUBRULE(this.repeatStmt) },
      { ALT: () => this.SUBRULE(this.returnStmt) },
    ]);
  });

  letStmt = this.RULE('letStmt', () => {
    this.CONSUME(T.Let);
    this.CONSUME(T.Ident);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expr);
  });

  assignStmt = this.RULE('assignStmt', () => {
    this.CONSUME(T.Ident);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expr);
  });

  paramStmt = this.RULE('paramStmt', () => {
    this.CONSUME(T.Param);
    this.CONSUME(T.Ident);
    this.CONSUME(T.Colon);
    this.OPTION(() => this.CONSUME2(T.Ident)); // dtype, default f32
    this.SUBRULE(this.listExpr);
  });

  repeatStmt = this.RULE('repeatStmt', () => {
    this.CONSUME(T.Repeat);
    this.CONSUME(T.Ident);
    this.CONSUME(T.In);
    this.SUBRULE(this.expr);
    this.CONSUME(T.DotDot);
    this.SUBRULE2(this.expr);
    this.SUBRULE(this.body);
  });

  returnStmt = this.RULE('returnStmt', () => {
    this.CONSUME(T.Return);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expr) });
  });

  annotation = this.RULE('annotation', () => {
    this.CONSUME(T.At);
    this.CONSUME(T.Ident);
    this.OPTION(() => this.SUBRULE(this.argList));
  });

  expr = this.RULE('expr', () => {
    this.SUBRULE(this.mulExpr);
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Plus) }, { ALT: () => this.CONSUME(T.Minus) }]);
      this.SUBRULE2(this.mulExpr);
    });
  });

  mulExpr = this.RULE('mulExpr', () => {
    this.SUBRULE(this.unaryExpr);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Star) },
        { ALT: () => this.CONSUME(T.FloorDiv) },
        { ALT: () => this.CONSUME(T.Slash) },
      ]);
      this.SUBRULE2(this.unaryExpr);
    });
  });

  unaryExpr = this.RULE('unaryExpr', () => {
    this.OR([
      { ALT: () => { this.CONSUME(T.Minus); this.SUBRULE(this.unaryExpr); } },
      { ALT: () => this.SUBRULE(this.primary) },
    ]);
  });

  primary = this.RULE('primary', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Float) },
      { ALT: () => this.CONSUME(T.Int) },
      { ALT: () => this.CONSUME(T.StringLit) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { ALT: () => this.SUBRULE(this.listExpr) },
      { ALT: () => { this.CONSUME(T.LParen); this.SUBRULE(this.expr); this.CONSUME(T.RParen); } },
      { ALT: () => this.SUBRULE(this.callOrName) },
    ]);
  });

  callOrName = this.RULE('callOrName', () => {
    this.CONSUME(T.Ident);
    this.OPTION(() => {
      this.SUBRULE(this.argList);
      this.OPTION2(() => {
        this.CONSUME(T.As);
        this.SUBRULE(this.namePattern);
      });
    });
  });

  listExpr = this.RULE('listExpr', () => {
    this.CONSUME(T.LBracket);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expr) });
    this.CONSUME(T.RBracket);
  });

  argList = this.RULE('argList', () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.arg) });
    this.CONSUME(T.RParen);
  });

  arg = this.RULE('arg', () => {
    this.OPTION(() => {
      this.CONSUME(T.Ident);
      this.CONSUME(T.Equals);
    });
    this.SUBRULE(this.expr);
  });

  // `block_{i + 1}`, `upsampler.0`, `layers.{i}.attention`: pieces glued without whitespace.
  namePattern = this.RULE('namePattern', () => {
    this.SUBRULE(this.namePiece);
    this.MANY({ GATE: () => this.glued(), DEF: () => this.SUBRULE2(this.namePiece) });
  });

  namePiece = this.RULE('namePiece', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Ident) },
      { ALT: () => this.CONSUME(T.Int) },
      { ALT: () => this.CONSUME(T.Dot) },
      { ALT: () => { this.CONSUME(T.LBrace); this.SUBRULE(this.expr); this.CONSUME(T.RBrace); } },
    ]);
  });

  private glued(): boolean {
    const prev: IToken = this.LA(0);
    const next: IToken = this.LA(1);
    const ok = next.tokenType === T.Ident || next.tokenType === T.Int || next.tokenType === T.Dot || next.tokenType === T.LBrace;
    return ok && prev.endOffset !== undefined && next.startOffset === prev.endOffset + 1;
  }
}

/** One shared instance: chevrotain parsers are reusable by resetting `input`. */
export const abitParser = new AbitParser();

export type { CstNode };
