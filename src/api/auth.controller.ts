import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Actor } from '../storage/domain';
import { AuthService } from '../storage/auth.service';
import { CurrentActor, Public, clientAddress, type AuthedRequest } from './auth.guard';
import { AddSshKeyDto, ChangePasswordDto, CreateUserDto, LoginDto } from './dto/resources.dto';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  login(@Body() body: LoginDto, @Req() req: Request) {
    return this.auth.login(body.username, body.password, `rest:${clientAddress(req)}`);
  }

  @ApiBearerAuth()
  @Post('logout')
  @HttpCode(204)
  async logout(@Req() req: AuthedRequest): Promise<void> {
    await this.auth.logout(req.actor, req.token);
  }

  @ApiBearerAuth()
  @Get('me')
  me(@CurrentActor() actor: Actor) {
    return { username: actor.name };
  }
}

@ApiTags('users')
@ApiBearerAuth()
@Controller('users')
export class UsersController {
  constructor(private readonly auth: AuthService) {}

  @Get()
  list() {
    return this.auth.listUsers();
  }

  @Post()
  create(@CurrentActor() actor: Actor, @Body() body: CreateUserDto) {
    return this.auth.createUser(actor, body.username, body.password);
  }

  @Post(':username/password')
  @HttpCode(204)
  async password(@CurrentActor() actor: Actor, @Param('username') username: string, @Body() body: ChangePasswordDto): Promise<void> {
    await this.auth.changePassword(actor, username, body.currentPassword, body.newPassword);
  }

  @Delete(':username')
  @HttpCode(204)
  async remove(@CurrentActor() actor: Actor, @Param('username') username: string): Promise<void> {
    await this.auth.removeUser(actor, username);
  }

  @Get(':username/keys')
  keys(@Param('username') username: string) {
    return this.auth.listKeys(username);
  }

  @Post(':username/keys')
  addKey(@CurrentActor() actor: Actor, @Param('username') username: string, @Body() body: AddSshKeyDto) {
    return this.auth.addKey(actor, username, body);
  }

  @Delete(':username/keys/:id')
  @HttpCode(204)
  async removeKey(@CurrentActor() actor: Actor, @Param('username') username: string, @Param('id') id: string): Promise<void> {
    await this.auth.removeKey(actor, username, id);
  }
}
