// GENERATED FILE: do not edit. Regenerate with `npx tsx scripts/gen-cst-types.ts`.
// The chevrotain CST types of dsl/parser.ts (generateCstDts), plus CstChildKey, the union of
// every rule's child keys. test/golden/dsl-cst-types.test.ts fails when this file drifts.

import type { CstNode, IToken } from "chevrotain";

export interface ProgramCstNode extends CstNode {
  name: "program";
  children: ProgramCstChildren;
}

export type ProgramCstChildren = {
  topItem?: TopItemCstNode[];
};

export interface TopItemCstNode extends CstNode {
  name: "topItem";
  children: TopItemCstChildren;
}

export type TopItemCstChildren = {
  importDecl?: ImportDeclCstNode[];
  annotation?: AnnotationCstNode[];
  modelDecl?: ModelDeclCstNode[];
  blockDecl?: BlockDeclCstNode[];
};

export interface ImportDeclCstNode extends CstNode {
  name: "importDecl";
  children: ImportDeclCstChildren;
}

export type ImportDeclCstChildren = {
  Import: IToken[];
  StringLit: IToken[];
};

export interface ModelDeclCstNode extends CstNode {
  name: "modelDecl";
  children: ModelDeclCstChildren;
}

export type ModelDeclCstChildren = {
  Model: IToken[];
  Ident: (IToken)[];
  declGroup: (DeclGroupCstNode)[];
  Arrow?: IToken[];
  LParen?: IToken[];
  Comma?: IToken[];
  RParen?: IToken[];
  body: BodyCstNode[];
};

export interface BlockDeclCstNode extends CstNode {
  name: "blockDecl";
  children: BlockDeclCstChildren;
}

export type BlockDeclCstChildren = {
  Block: IToken[];
  Ident: IToken[];
  declGroup: (DeclGroupCstNode)[];
  body: BodyCstNode[];
};

export interface DeclGroupCstNode extends CstNode {
  name: "declGroup";
  children: DeclGroupCstChildren;
}

export type DeclGroupCstChildren = {
  LParen: IToken[];
  declItem?: DeclItemCstNode[];
  Comma?: IToken[];
  RParen: IToken[];
};

export interface DeclItemCstNode extends CstNode {
  name: "declItem";
  children: DeclItemCstChildren;
}

export type DeclItemCstChildren = {
  Ident: IToken[];
  Colon?: IToken[];
  typeExpr?: TypeExprCstNode[];
  Equals?: IToken[];
  expr?: ExprCstNode[];
};

export interface TypeExprCstNode extends CstNode {
  name: "typeExpr";
  children: TypeExprCstChildren;
}

export type TypeExprCstChildren = {
  Ident: IToken[];
  listExpr: ListExprCstNode[];
};

export interface BodyCstNode extends CstNode {
  name: "body";
  children: BodyCstChildren;
}

export type BodyCstChildren = {
  LBrace: IToken[];
  statement?: StatementCstNode[];
  RBrace: IToken[];
};

export interface StatementCstNode extends CstNode {
  name: "statement";
  children: StatementCstChildren;
}

export type StatementCstChildren = {
  annotation?: AnnotationCstNode[];
  letStmt?: LetStmtCstNode[];
  assignStmt?: AssignStmtCstNode[];
  paramStmt?: ParamStmtCstNode[];
  repeatStmt?: RepeatStmtCstNode[];
  returnStmt?: ReturnStmtCstNode[];
};

export interface LetStmtCstNode extends CstNode {
  name: "letStmt";
  children: LetStmtCstChildren;
}

export type LetStmtCstChildren = {
  Let: IToken[];
  Ident: IToken[];
  Equals: IToken[];
  expr: ExprCstNode[];
};

export interface AssignStmtCstNode extends CstNode {
  name: "assignStmt";
  children: AssignStmtCstChildren;
}

export type AssignStmtCstChildren = {
  Ident: IToken[];
  Equals: IToken[];
  expr: ExprCstNode[];
};

export interface ParamStmtCstNode extends CstNode {
  name: "paramStmt";
  children: ParamStmtCstChildren;
}

export type ParamStmtCstChildren = {
  Param: IToken[];
  Ident: (IToken)[];
  Colon: IToken[];
  listExpr: ListExprCstNode[];
};

export interface RepeatStmtCstNode extends CstNode {
  name: "repeatStmt";
  children: RepeatStmtCstChildren;
}

export type RepeatStmtCstChildren = {
  Repeat: IToken[];
  Ident: IToken[];
  In: IToken[];
  expr: (ExprCstNode)[];
  DotDot: IToken[];
  body: BodyCstNode[];
};

export interface ReturnStmtCstNode extends CstNode {
  name: "returnStmt";
  children: ReturnStmtCstChildren;
}

export type ReturnStmtCstChildren = {
  Return: IToken[];
  expr: ExprCstNode[];
  Comma?: IToken[];
};

export interface AnnotationCstNode extends CstNode {
  name: "annotation";
  children: AnnotationCstChildren;
}

export type AnnotationCstChildren = {
  At: IToken[];
  Ident: IToken[];
  argList?: ArgListCstNode[];
};

export interface ExprCstNode extends CstNode {
  name: "expr";
  children: ExprCstChildren;
}

export type ExprCstChildren = {
  mulExpr: (MulExprCstNode)[];
  Plus?: IToken[];
  Minus?: IToken[];
};

export interface MulExprCstNode extends CstNode {
  name: "mulExpr";
  children: MulExprCstChildren;
}

export type MulExprCstChildren = {
  unaryExpr: (UnaryExprCstNode)[];
  Star?: IToken[];
  FloorDiv?: IToken[];
  Slash?: IToken[];
};

export interface UnaryExprCstNode extends CstNode {
  name: "unaryExpr";
  children: UnaryExprCstChildren;
}

export type UnaryExprCstChildren = {
  Minus?: IToken[];
  unaryExpr?: UnaryExprCstNode[];
  primary?: PrimaryCstNode[];
};

export interface PrimaryCstNode extends CstNode {
  name: "primary";
  children: PrimaryCstChildren;
}

export type PrimaryCstChildren = {
  Float?: IToken[];
  Int?: IToken[];
  StringLit?: IToken[];
  True?: IToken[];
  False?: IToken[];
  listExpr?: ListExprCstNode[];
  LParen?: IToken[];
  expr?: ExprCstNode[];
  RParen?: IToken[];
  callOrName?: CallOrNameCstNode[];
};

export interface CallOrNameCstNode extends CstNode {
  name: "callOrName";
  children: CallOrNameCstChildren;
}

export type CallOrNameCstChildren = {
  Ident: IToken[];
  argList?: ArgListCstNode[];
  As?: IToken[];
  namePattern?: NamePatternCstNode[];
};

export interface ListExprCstNode extends CstNode {
  name: "listExpr";
  children: ListExprCstChildren;
}

export type ListExprCstChildren = {
  LBracket: IToken[];
  expr?: ExprCstNode[];
  Comma?: IToken[];
  RBracket: IToken[];
};

export interface ArgListCstNode extends CstNode {
  name: "argList";
  children: ArgListCstChildren;
}

export type ArgListCstChildren = {
  LParen: IToken[];
  arg?: ArgCstNode[];
  Comma?: IToken[];
  RParen: IToken[];
};

export interface ArgCstNode extends CstNode {
  name: "arg";
  children: ArgCstChildren;
}

export type ArgCstChildren = {
  Ident?: IToken[];
  Equals?: IToken[];
  expr: ExprCstNode[];
};

export interface NamePatternCstNode extends CstNode {
  name: "namePattern";
  children: NamePatternCstChildren;
}

export type NamePatternCstChildren = {
  namePiece: (NamePieceCstNode)[];
};

export interface NamePieceCstNode extends CstNode {
  name: "namePiece";
  children: NamePieceCstChildren;
}

export type NamePieceCstChildren = {
  Ident?: IToken[];
  Int?: IToken[];
  Dot?: IToken[];
  LBrace?: IToken[];
  expr?: ExprCstNode[];
  RBrace?: IToken[];
};

export type CstChildKey =
  | keyof ProgramCstChildren
  | keyof TopItemCstChildren
  | keyof ImportDeclCstChildren
  | keyof ModelDeclCstChildren
  | keyof BlockDeclCstChildren
  | keyof DeclGroupCstChildren
  | keyof DeclItemCstChildren
  | keyof TypeExprCstChildren
  | keyof BodyCstChildren
  | keyof StatementCstChildren
  | keyof LetStmtCstChildren
  | keyof AssignStmtCstChildren
  | keyof ParamStmtCstChildren
  | keyof RepeatStmtCstChildren
  | keyof ReturnStmtCstChildren
  | keyof AnnotationCstChildren
  | keyof ExprCstChildren
  | keyof MulExprCstChildren
  | keyof UnaryExprCstChildren
  | keyof PrimaryCstChildren
  | keyof CallOrNameCstChildren
  | keyof ListExprCstChildren
  | keyof ArgListCstChildren
  | keyof ArgCstChildren
  | keyof NamePatternCstChildren
  | keyof NamePieceCstChildren;
