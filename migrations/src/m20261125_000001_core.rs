//! The core tables: users, clients, signing keys, interactions, codes, tokens, consent.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    Email,
    EmailVerified,
    Name,
    PasswordHash,
    Disabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
    Name,
    SecretHash,
    Public,
    RedirectUris,
    PostLogoutRedirectUris,
    RequireConsent,
    RequirePkce,
    IdTokenSignedResponseAlg,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Kid,
    Alg,
    PrivatePem,
    PublicJwk,
    CreatedAt,
    RetiredAt,
}

#[derive(DeriveIden)]
enum Interactions {
    Table,
    Id,
    ClientId,
    Request,
    CreatedAt,
    ExpiresAt,
    CompletedAt,
}

#[derive(DeriveIden)]
enum AuthorizationCodes {
    Table,
    CodeHash,
    ClientId,
    UserId,
    RedirectUri,
    Scope,
    Nonce,
    CodeChallenge,
    AuthTime,
    Amr,
    Sid,
    Idp,
    ExpiresAt,
    ConsumedAt,
}

#[derive(DeriveIden)]
enum AccessTokens {
    Table,
    TokenHash,
    ClientId,
    UserId,
    Scope,
    CodeHash,
    Sid,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum ConsentGrants {
    Table,
    UserId,
    ClientId,
    Scope,
    GrantedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Users::Table)
                .if_not_exists()
                .col(ColumnDef::new(Users::Id).string().not_null().primary_key())
                .col(ColumnDef::new(Users::Username).string().not_null().unique_key())
                .col(ColumnDef::new(Users::Email).string())
                .col(ColumnDef::new(Users::EmailVerified).boolean().not_null().default(false))
                .col(ColumnDef::new(Users::Name).string())
                .col(ColumnDef::new(Users::PasswordHash).string())
                .col(ColumnDef::new(Users::Disabled).boolean().not_null().default(false))
                .col(ColumnDef::new(Users::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(Users::UpdatedAt).big_integer().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_users_email")
                .table(Users::Table)
                .col(Users::Email)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Clients::Table)
                .if_not_exists()
                .col(ColumnDef::new(Clients::Id).string().not_null().primary_key())
                .col(ColumnDef::new(Clients::Name).string().not_null())
                .col(ColumnDef::new(Clients::SecretHash).string())
                .col(ColumnDef::new(Clients::Public).boolean().not_null())
                .col(ColumnDef::new(Clients::RedirectUris).text().not_null())
                .col(ColumnDef::new(Clients::PostLogoutRedirectUris).text().not_null())
                .col(ColumnDef::new(Clients::RequireConsent).boolean().not_null())
                .col(ColumnDef::new(Clients::RequirePkce).boolean().not_null())
                .col(ColumnDef::new(Clients::IdTokenSignedResponseAlg).string().not_null())
                .col(ColumnDef::new(Clients::CreatedAt).big_integer().not_null())
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SigningKeys::Table)
                .if_not_exists()
                .col(ColumnDef::new(SigningKeys::Kid).string().not_null().primary_key())
                .col(ColumnDef::new(SigningKeys::Alg).string().not_null())
                .col(ColumnDef::new(SigningKeys::PrivatePem).text().not_null())
                .col(ColumnDef::new(SigningKeys::PublicJwk).text().not_null())
                .col(ColumnDef::new(SigningKeys::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(SigningKeys::RetiredAt).big_integer())
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Interactions::Table)
                .if_not_exists()
                .col(ColumnDef::new(Interactions::Id).string().not_null().primary_key())
                .col(ColumnDef::new(Interactions::ClientId).string().not_null())
                .col(ColumnDef::new(Interactions::Request).text().not_null())
                .col(ColumnDef::new(Interactions::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(Interactions::ExpiresAt).big_integer().not_null())
                .col(ColumnDef::new(Interactions::CompletedAt).big_integer())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_interactions_expires_at")
                .table(Interactions::Table)
                .col(Interactions::ExpiresAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuthorizationCodes::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(AuthorizationCodes::CodeHash)
                        .string()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(AuthorizationCodes::ClientId).string().not_null())
                .col(ColumnDef::new(AuthorizationCodes::UserId).string().not_null())
                .col(ColumnDef::new(AuthorizationCodes::RedirectUri).text().not_null())
                .col(ColumnDef::new(AuthorizationCodes::Scope).text().not_null())
                .col(ColumnDef::new(AuthorizationCodes::Nonce).text())
                .col(ColumnDef::new(AuthorizationCodes::CodeChallenge).string())
                .col(ColumnDef::new(AuthorizationCodes::AuthTime).big_integer().not_null())
                .col(ColumnDef::new(AuthorizationCodes::Amr).string().not_null())
                .col(ColumnDef::new(AuthorizationCodes::Sid).string().not_null())
                .col(ColumnDef::new(AuthorizationCodes::Idp).string())
                .col(ColumnDef::new(AuthorizationCodes::ExpiresAt).big_integer().not_null())
                .col(ColumnDef::new(AuthorizationCodes::ConsumedAt).big_integer())
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AccessTokens::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(AccessTokens::TokenHash)
                        .string()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(AccessTokens::ClientId).string().not_null())
                .col(ColumnDef::new(AccessTokens::UserId).string().not_null())
                .col(ColumnDef::new(AccessTokens::Scope).text().not_null())
                .col(ColumnDef::new(AccessTokens::CodeHash).string())
                .col(ColumnDef::new(AccessTokens::Sid).string())
                .col(ColumnDef::new(AccessTokens::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(AccessTokens::ExpiresAt).big_integer().not_null())
                .col(ColumnDef::new(AccessTokens::RevokedAt).big_integer())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_access_tokens_code_hash")
                .table(AccessTokens::Table)
                .col(AccessTokens::CodeHash)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ConsentGrants::Table)
                .if_not_exists()
                .col(ColumnDef::new(ConsentGrants::UserId).string().not_null())
                .col(ColumnDef::new(ConsentGrants::ClientId).string().not_null())
                .col(ColumnDef::new(ConsentGrants::Scope).text().not_null())
                .col(ColumnDef::new(ConsentGrants::GrantedAt).big_integer().not_null())
                .primary_key(Index::create().col(ConsentGrants::UserId).col(ConsentGrants::ClientId))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ConsentGrants::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(AccessTokens::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(AuthorizationCodes::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Interactions::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(SigningKeys::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Clients::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Users::Table).to_owned()).await?;
        Ok(())
    }
}
